// Objects by resource, namespace and name, one global resourceVersion counter
// (as etcd's revision), and the log of changes that watches replay and follow.
import type { JsonObject } from "./types.js";
import { metadataOf, stringField } from "./types.js";

/** One change, as a watch reports it. */
export interface StoreEvent {
  readonly resourceVersion: number;
  readonly type: "ADDED" | "MODIFIED" | "DELETED";
  /** `<group>/<plural>` of the changed object. */
  readonly resource: string;
  readonly object: JsonObject;
  /** The object before the change (for MODIFIED), so selector watches see objects leave. */
  readonly previous: JsonObject | undefined;
}

/** The key of a resource type in the store. */
export function resourceKey(group: string, plural: string): string {
  return `${group}/${plural}`;
}

function objectKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ""}/${name}`;
}

/** The in-memory storage of the fake server. */
export class ObjectStore {
  private revision = 1;
  private readonly tables = new Map<string, Map<string, JsonObject>>();
  private readonly log: StoreEvent[] = [];
  private readonly listeners = new Set<(event: StoreEvent) => void>();

  constructor(private readonly historyLimit: number) {}

  /** The resourceVersion of the latest change. */
  get currentVersion(): number {
    return this.revision;
  }

  /** The oldest resourceVersion a watch may still start from. */
  get oldestVersion(): number {
    const first = this.log[0];
    return first ? first.resourceVersion - 1 : this.revision;
  }

  get(resource: string, namespace: string | undefined, name: string): JsonObject | undefined {
    return this.tables.get(resource)?.get(objectKey(namespace, name));
  }

  /** Objects of one resource, in one namespace or all of them, sorted by namespace and name. */
  list(resource: string, namespace: string | undefined): JsonObject[] {
    const table = this.tables.get(resource);
    if (!table) return [];
    const out: JsonObject[] = [];
    for (const [key, obj] of [...table.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (namespace === undefined || key.startsWith(`${namespace}/`)) out.push(obj);
    }
    return out;
  }

  /** Stores a created or changed object under a new resourceVersion and tells the watchers. */
  put(resource: string, obj: JsonObject): JsonObject {
    const meta = metadataOf(obj);
    const name = stringField(meta, "name") ?? "";
    const namespace = stringField(meta, "namespace");
    let table = this.tables.get(resource);
    if (!table) this.tables.set(resource, (table = new Map()));
    const previous = table.get(objectKey(namespace, name));
    meta["resourceVersion"] = String(++this.revision);
    table.set(objectKey(namespace, name), obj);
    this.record({ resourceVersion: this.revision, type: previous ? "MODIFIED" : "ADDED", resource, object: obj, previous });
    return obj;
  }

  /** Removes an object; the DELETED event carries the resourceVersion of the deletion. */
  remove(resource: string, obj: JsonObject): JsonObject {
    const meta = metadataOf(obj);
    this.tables.get(resource)?.delete(objectKey(stringField(meta, "namespace"), stringField(meta, "name") ?? ""));
    const gone = structuredClone(obj);
    metadataOf(gone)["resourceVersion"] = String(++this.revision);
    this.record({ resourceVersion: this.revision, type: "DELETED", resource, object: gone, previous: obj });
    return gone;
  }

  /** The events after a resourceVersion, or undefined when the log no longer reaches back that far. */
  eventsSince(resourceVersion: number): StoreEvent[] | undefined {
    if (resourceVersion < this.oldestVersion) return undefined;
    return this.log.filter((e) => e.resourceVersion > resourceVersion);
  }

  /** Calls `listener` for every change from now on; returns the function that stops it. */
  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private record(event: StoreEvent): void {
    this.log.push(event);
    if (this.log.length > this.historyLimit) this.log.splice(0, this.log.length - this.historyLimit);
    for (const listener of [...this.listeners]) listener(event);
  }
}
