import { isJsonObject } from "../../core/json.js";
import type { KubeClient, ResourceType } from "./kube-client.js";

/**
 * Resource types by what Ferry knows of an object: its apiVersion and kind
 * (a manifest), or only its API group and kind (a resource key, which has no
 * version: the group's preferred version is asked for).
 */
export class ResourceTypes {
  readonly #client: KubeClient;
  readonly #byGroupKind = new Map<string, ResourceType>();
  readonly #preferred = new Map<string, Promise<string | undefined>>();

  constructor(client: KubeClient) {
    this.#client = client;
  }

  /** The type of a manifest's apiVersion and kind; undefined when the cluster has none. */
  async ofManifest(apiVersion: string, kind: string): Promise<ResourceType | undefined> {
    const type = await this.#client.resourceType(apiVersion, kind);
    if (type) this.#byGroupKind.set(groupKind(apiVersion, kind), type);
    return type;
  }

  /** The type of a resource key's group and kind; undefined when the cluster has none. */
  async ofKey(group: string, kind: string): Promise<ResourceType | undefined> {
    const known = this.#byGroupKind.get(`${group}/${kind}`);
    if (known) return known;
    const version = group === "" ? "v1" : await this.#preferredVersion(group);
    return version ? this.ofManifest(version, kind) : undefined;
  }

  /** Forgets preferred versions, so a group added by a CustomResourceDefinition is found. */
  forget(): void {
    this.#preferred.clear();
  }

  #preferredVersion(group: string): Promise<string | undefined> {
    let pending = this.#preferred.get(group);
    if (!pending) {
      pending = (async () => {
        const res = await this.#client.request({ method: "GET", path: `/apis/${group}` });
        if (res.status === 404) return undefined;
        const preferred = isJsonObject(res.body) && isJsonObject(res.body.preferredVersion) ? res.body.preferredVersion.groupVersion : undefined;
        return typeof preferred === "string" ? preferred : undefined;
      })();
      this.#preferred.set(group, pending);
      pending.catch(() => this.#preferred.delete(group));
    }
    return pending;
  }
}

function groupKind(apiVersion: string, kind: string): string {
  const slash = apiVersion.indexOf("/");
  return `${slash === -1 ? "" : apiVersion.slice(0, slash)}/${kind}`;
}
