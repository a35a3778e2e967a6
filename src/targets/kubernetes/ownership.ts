import { transient } from "../../core/errors.js";
import type { ResourceKey } from "../../core/ids.js";
import { displayKey } from "../../core/ids.js";
import type { JsonObject } from "../../core/json.js";
import { isJsonObject } from "../../core/json.js";
import type { KubeClient } from "./kube-client.js";
import { KubeClient as Client, statusMessage } from "./kube-client.js";
import { ADOPTED_BY_ANNOTATION, APPLICATION_LABEL, OWNED_BY_ANNOTATION } from "./labels.js";

/** The application an object is labelled for, if any. */
export function labelOf(object: JsonObject | undefined): string | undefined {
  const meta = object?.metadata;
  const labels = isJsonObject(meta) && isJsonObject(meta.labels) ? meta.labels : undefined;
  const value = labels?.[APPLICATION_LABEL];
  return typeof value === "string" ? value : undefined;
}

/**
 * How an object stands to an application: `created` by it (marked
 * ferry.dev/owned-by, or labelled before marks existed), `adopted` by it
 * (ferry.dev/adopted-by), or `foreign` (never marked: made by someone else).
 */
export function ownershipOf(object: JsonObject | undefined, application: string): "created" | "adopted" | "foreign" {
  const meta = object?.metadata;
  const annotations = isJsonObject(meta) && isJsonObject(meta.annotations) ? meta.annotations : {};
  if (annotations[ADOPTED_BY_ANNOTATION] === application) return "adopted";
  if (annotations[OWNED_BY_ANNOTATION] === application || labelOf(object) === application) return "created";
  return "foreign";
}

/** Gives an adopted object back: Ferry's label and marks removed (a merge patch), the object otherwise left as it is. */
export async function releaseObject(client: KubeClient, path: string, key: ResourceKey): Promise<void> {
  const res = await client.request({
    method: "PATCH",
    path,
    body: { metadata: { labels: { [APPLICATION_LABEL]: null }, annotations: { [ADOPTED_BY_ANNOTATION]: null, [OWNED_BY_ANNOTATION]: null } } },
    contentType: "application/merge-patch+json",
  });
  if (res.status >= 300 && res.status !== 404) throw transient("ReleaseFailed", `releasing ${displayKey(key)}: ${client.cluster} answered ${res.status}: ${statusMessage(res.body)}`);
}

/**
 * Refuses to delete a Namespace that holds objects the application does not
 * manage (made by hand, or by another application): deleting it would take
 * them along. Objects made by controllers for others (owner references),
 * events, endpoints and what Kubernetes puts in every namespace do not count.
 */
export async function refuseIfForeignContent(client: KubeClient, namespace: string, application: string): Promise<void> {
  const foreign: string[] = [];
  for (const type of await client.allResourceTypes()) {
    if (!type.namespaced || !type.listable || type.kind === "Event" || type.kind === "Endpoints") continue;
    const res = await client.request({ method: "GET", path: Client.pathOf(type, namespace), query: { limit: "100" } });
    if (res.status >= 300 || !isJsonObject(res.body) || !Array.isArray(res.body.items)) continue;
    for (const item of res.body.items) {
      if (!isJsonObject(item) || !isJsonObject(item.metadata) || typeof item.metadata.name !== "string") continue;
      if (labelOf(item) === application || isGenerated(type.kind, item)) continue;
      foreign.push(`${type.kind}/${namespace}/${item.metadata.name}`);
    }
  }
  if (foreign.length === 0) return;
  const shown = foreign.slice(0, 5).join(", ") + (foreign.length > 5 ? ` and ${foreign.length - 5} more` : "");
  throw transient(
    "NamespaceNotEmpty",
    `not deleting Namespace ${namespace}: it holds ${foreign.length === 1 ? "an object" : `${foreign.length} objects`} application "${application}" does not manage (${shown}); delete or move ${foreign.length === 1 ? "it" : "them"} and ferry deletes the namespace, or annotate the Namespace ferry.dev/prune: disabled in Git to keep it`,
  );
}

/** Objects Kubernetes makes by itself in a namespace: they go with it and never block its deletion. */
function isGenerated(kind: string, object: JsonObject): boolean {
  const meta = isJsonObject(object.metadata) ? object.metadata : {};
  if (Array.isArray(meta.ownerReferences) && meta.ownerReferences.length > 0) return true;
  if (kind === "ServiceAccount" && meta.name === "default") return true;
  if (kind === "ConfigMap" && meta.name === "kube-root-ca.crt") return true;
  return kind === "Secret" && object.type === "kubernetes.io/service-account-token";
}
