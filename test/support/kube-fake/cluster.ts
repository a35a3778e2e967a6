// The fake cluster without HTTP: store, types, object API, and what runs after
// each write (namespace and CRD lifecycle always; simulated controllers when on).
import { desiredStatus } from "./controllers.js";
import { ObjectApi } from "./object-api.js";
import { CRD_RESOURCE, TypeRegistry, typeOfCrd } from "./registry.js";
import { ObjectStore, resourceKey } from "./store.js";
import type { JsonObject, ResourceType } from "./types.js";
import { apiVersionOf, clone, jsonEqual, metadataOf, objectField, readMetadata, stringField } from "./types.js";
import { prepareWrite, timestamp } from "./write-object.js";

/** Options of the fake cluster. */
export interface ClusterOptions {
  readonly simulateControllers: boolean;
  /** How many changes a watch can replay; older resourceVersions get 410 Gone. */
  readonly watchHistory: number;
}

interface Queued {
  readonly type: ResourceType;
  readonly namespace: string | undefined;
  readonly name: string;
  readonly previous: JsonObject | undefined;
}

/** The state of the fake cluster and the loops that react to its changes. */
export class FakeCluster {
  readonly store: ObjectStore;
  readonly registry: TypeRegistry;
  readonly api: ObjectApi;
  private readonly queue: Queued[] = [];
  private scheduled = false;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(private readonly options: ClusterOptions) {
    this.store = new ObjectStore(options.watchHistory);
    this.registry = new TypeRegistry(this.store);
    this.api = new ObjectApi(this.store, (type, obj, previous) => this.enqueue(type, obj, previous));
  }

  /** Resolves once every reaction to the writes so far has run. */
  settled(): Promise<void> {
    if (!this.scheduled && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private enqueue(type: ResourceType, obj: JsonObject | undefined, previous: JsonObject | undefined): void {
    const meta = readMetadata(obj ?? previous);
    this.queue.push({ type, namespace: stringField(meta, "namespace"), name: stringField(meta, "name") ?? "", previous });
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.drain());
  }

  private drain(): void {
    while (this.queue.length > 0) {
      const item = this.queue.shift();
      if (item) this.react(item);
    }
    this.scheduled = false;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private react(item: Queued): void {
    const { type } = item;
    const current = this.store.get(resourceKey(type.group, type.plural), item.namespace, item.name);
    if (!type.custom && type.kind === "CustomResourceDefinition" && !current && item.previous) this.removeCustomResources(item.previous);
    if (!type.custom && type.kind === "Namespace" && current && readMetadata(current)["deletionTimestamp"] !== undefined) {
      this.finalizeNamespace(item.name);
      return;
    }
    if (type.namespaced && item.namespace !== undefined) {
      const ns = this.store.get(resourceKey("", "namespaces"), undefined, item.namespace);
      if (ns && objectField(ns, "metadata")?.["deletionTimestamp"] !== undefined) this.enqueue(this.namespaceType(), ns, undefined);
    }
    if (!this.options.simulateControllers || !current || objectField(current, "metadata")?.["deletionTimestamp"] !== undefined) return;
    if (!type.custom && type.kind === "PersistentVolumeClaim") this.bindClaim(type, current);
    const latest = this.store.get(resourceKey(type.group, type.plural), item.namespace, item.name) ?? current;
    const desired = desiredStatus(type, latest, timestamp());
    if (!desired || jsonEqual(desired.status, latest["status"])) return;
    this.writeAs(type, latest, { ...latest, status: desired.status }, desired.manager, "status");
  }

  /** Writes a change as a controller would, through the same checks as a client's write. */
  writeAs(type: ResourceType, before: JsonObject, after: JsonObject, manager: string, subresource: string | undefined): JsonObject {
    const writer = { manager, apiVersion: apiVersionOf(type.group, type.versions[0] ?? ""), subresource };
    const meta = readMetadata(before);
    const prepared = prepareWrite({ type, namespace: stringField(meta, "namespace"), before, after: clone(after), writer, managers: undefined, now: timestamp() });
    return this.api.persist(type, before, prepared, false);
  }

  /** The volume binder: a claim gets a volume and the annotations that say so. */
  private bindClaim(type: ResourceType, claim: JsonObject): void {
    const spec = objectField(claim, "spec");
    if (spec?.["volumeName"] !== undefined) return;
    const after = clone(claim);
    const meta = metadataOf(after);
    const annotations = objectField(meta, "annotations") ?? (meta["annotations"] = {});
    annotations["pv.kubernetes.io/bind-completed"] = "yes";
    annotations["pv.kubernetes.io/bound-by-controller"] = "yes";
    (objectField(after, "spec") ?? (after["spec"] = {}))["volumeName"] = `pvc-${stringField(meta, "uid") ?? ""}`;
    this.writeAs(type, claim, after, "kube-controller-manager", undefined);
  }

  private namespaceType(): ResourceType {
    const type = this.registry.byResource("", "v1", "namespaces");
    if (!type) throw new Error("namespaces are always served");
    return type;
  }

  /** The namespace controller: deletes everything in the namespace, then the namespace once it is empty. */
  private finalizeNamespace(namespace: string): void {
    let remaining = 0;
    for (const type of this.registry.all()) {
      if (!type.namespaced) continue;
      for (const obj of this.store.list(resourceKey(type.group, type.plural), namespace)) {
        remaining++;
        const name = stringField(readMetadata(obj), "name");
        if (objectField(obj, "metadata")?.["deletionTimestamp"] === undefined) {
          this.api.delete({ type, version: type.versions[0] ?? "", namespace, name, subresource: undefined }, {}, false);
        }
      }
    }
    const ns = this.store.get(resourceKey("", "namespaces"), undefined, namespace);
    if (!ns) return;
    const left = this.registry.all().some((t) => t.namespaced && this.store.list(resourceKey(t.group, t.plural), namespace).length > 0);
    if (remaining === 0 || !left) {
      this.store.remove(resourceKey("", "namespaces"), ns);
    }
  }

  /** The CRD finalizer: deleting a CRD deletes every object of its type. */
  private removeCustomResources(crd: JsonObject): void {
    const type = typeOfCrd(crd);
    if (!type) return;
    for (const obj of this.store.list(resourceKey(type.group, type.plural), undefined)) this.store.remove(resourceKey(type.group, type.plural), obj);
  }

  /** The CRDs stored, for discovery. */
  crds(): JsonObject[] {
    return this.store.list(CRD_RESOURCE, undefined);
  }
}
