import type { JsonObject } from "../../core/json.js";
import { isJsonObject } from "../../core/json.js";
import type { KubeClient, ResourceType } from "./kube-client.js";
import { KubeClient as Client, statusMessage } from "./kube-client.js";

/** A change the cache saw: an object added or modified (`object`), or deleted (`object` undefined). */
export interface CachedChange {
  readonly type: ResourceType;
  readonly namespace: string;
  readonly name: string;
  readonly object: JsonObject | undefined;
  readonly previous: JsonObject | undefined;
}

interface TypeCache {
  readonly type: ResourceType;
  readonly objects: Map<string, JsonObject>;
  resourceVersion: string;
  readonly synced: Promise<void>;
  readonly abort: AbortController;
}

/**
 * Live objects carrying Ferry's label, one list-and-watch per resource type in
 * use (never the whole cluster), resumed from the last resourceVersion and
 * listed again when the server says it is too old (410) or the stream broke
 * or went silent. Reads of what Ferry manages are answered from here without
 * a request.
 */
export class LiveCache {
  readonly #client: KubeClient;
  readonly #labelSelector: string;
  readonly #onChange: (change: CachedChange) => void;
  readonly #types = new Map<string, TypeCache>();
  /** Cached objects by the value of the label: label value, then type id, then object ids. */
  readonly #byLabel = new Map<string, Map<string, Set<string>>>();
  readonly #retryMs: number;
  #closed = false;

  /** `label`: the label key every cached object carries (lists and watches select on it), and by whose value `labelled` finds them. */
  constructor(client: KubeClient, label: string, onChange: (change: CachedChange) => void, retryMs = 1000) {
    this.#client = client;
    this.#labelSelector = label;
    this.#onChange = onChange;
    this.#retryMs = retryMs;
  }

  /** Starts watching a resource type unless it is watched; resolves once its first list is in. */
  ensure(type: ResourceType): Promise<void> {
    const id = typeId(type);
    const existing = this.#types.get(id);
    if (existing) return existing.synced;
    let resolveSynced: () => void = () => undefined;
    let rejectSynced: (error: unknown) => void = () => undefined;
    const synced = new Promise<void>((resolve, reject) => {
      resolveSynced = resolve;
      rejectSynced = reject;
    });
    const cache: TypeCache = { type, objects: new Map(), resourceVersion: "", synced, abort: new AbortController() };
    this.#types.set(id, cache);
    void this.#run(cache, resolveSynced, (error) => {
      // The first list failed: forget the type so the next caller tries again.
      for (const objectId of [...cache.objects.keys()]) this.#delete(cache, objectId);
      this.#types.delete(id);
      cache.abort.abort();
      rejectSynced(error);
    });
    return synced;
  }

  /** The cached object, `undefined` when the watched type has none, `"unwatched"` when the type is not synced yet. */
  get(type: ResourceType, namespace: string, name: string): JsonObject | undefined | "unwatched" {
    const cache = this.#types.get(typeId(type));
    if (!cache) return "unwatched";
    return cache.objects.get(objectId(type, namespace, name));
  }

  /** True when the type is watched (or its first list is under way). */
  watches(type: ResourceType): boolean {
    return this.#types.has(typeId(type));
  }

  /** Records an object the server returned after Ferry's own write, unless the cache already holds a newer one. */
  put(type: ResourceType, object: JsonObject): void {
    const cache = this.#types.get(typeId(type));
    if (!cache) return;
    const id = idOf(type, object);
    if (!isNewer(object, cache.objects.get(id))) return;
    this.#set(cache, id, object);
  }

  /** Forgets an object Ferry deleted. */
  remove(type: ResourceType, namespace: string, name: string): void {
    const cache = this.#types.get(typeId(type));
    if (cache) this.#delete(cache, objectId(type, namespace, name));
  }

  /** Every cached object whose label has this value, with its type: an index, no scan of the cache. */
  labelled(value: string): { readonly type: ResourceType; readonly object: JsonObject }[] {
    const out: { type: ResourceType; object: JsonObject }[] = [];
    for (const [id, objects] of this.#byLabel.get(value) ?? []) {
      const cache = this.#types.get(id);
      if (!cache) continue;
      for (const objectId of objects) {
        const object = cache.objects.get(objectId);
        if (object) out.push({ type: cache.type, object });
      }
    }
    return out;
  }

  /** Number of resource types watched. */
  get watchedTypes(): number {
    return this.#types.size;
  }

  /** Stops every watch. */
  close(): void {
    this.#closed = true;
    for (const cache of this.#types.values()) cache.abort.abort();
    this.#types.clear();
    this.#byLabel.clear();
  }

  #set(cache: TypeCache, id: string, object: JsonObject): void {
    this.#unindex(cache, id);
    cache.objects.set(id, object);
    const value = labelValue(object, this.#labelSelector);
    if (value === undefined) return;
    const types = this.#byLabel.get(value) ?? new Map<string, Set<string>>();
    this.#byLabel.set(value, types);
    const type = typeId(cache.type);
    const ids = types.get(type) ?? new Set<string>();
    types.set(type, ids);
    ids.add(id);
  }

  #delete(cache: TypeCache, id: string): void {
    this.#unindex(cache, id);
    cache.objects.delete(id);
  }

  #unindex(cache: TypeCache, id: string): void {
    const value = labelValue(cache.objects.get(id), this.#labelSelector);
    if (value === undefined) return;
    const types = this.#byLabel.get(value);
    const type = typeId(cache.type);
    const ids = types?.get(type);
    if (!types || !ids) return;
    ids.delete(id);
    if (ids.size === 0) types.delete(type);
    if (types.size === 0) this.#byLabel.delete(value);
  }

  async #run(cache: TypeCache, synced: () => void, failed: (error: unknown) => void): Promise<void> {
    try {
      await this.#list(cache);
    } catch (error) {
      failed(error);
      return;
    }
    synced();
    while (!this.#closed && !cache.abort.signal.aborted) {
      try {
        const gone = await this.#watch(cache);
        if (gone) await this.#list(cache);
      } catch {
        if (cache.abort.signal.aborted) return;
        await new Promise((resolve) => setTimeout(resolve, this.#retryMs));
        try {
          // After a broken stream the resourceVersion may be too old; a list is always safe.
          await this.#list(cache);
        } catch {
          // The server is away: try again after the next pause.
        }
      }
    }
  }

  /** Lists the type (in pages) and replaces the cache, telling about every difference. */
  async #list(cache: TypeCache): Promise<void> {
    const next = new Map<string, JsonObject>();
    let token: string | undefined;
    let resourceVersion = "";
    do {
      const res = await this.#client.request({
        method: "GET",
        path: Client.pathOf(cache.type),
        query: { labelSelector: this.#labelSelector, limit: "500", continue: token },
      });
      if (res.status >= 300 || !isJsonObject(res.body)) throw new Error(`listing ${cache.type.plural} answered ${res.status}: ${statusMessage(res.body)}`);
      const items = Array.isArray(res.body.items) ? res.body.items : [];
      for (const item of items) {
        if (isJsonObject(item)) next.set(idOf(cache.type, { ...item, apiVersion: cache.type.apiVersion, kind: cache.type.kind }), { ...item, apiVersion: cache.type.apiVersion, kind: cache.type.kind });
      }
      const meta = isJsonObject(res.body.metadata) ? res.body.metadata : {};
      token = typeof meta.continue === "string" && meta.continue !== "" ? meta.continue : undefined;
      resourceVersion = typeof meta.resourceVersion === "string" ? meta.resourceVersion : resourceVersion;
    } while (token);
    const previous = new Map(cache.objects);
    for (const id of previous.keys()) if (!next.has(id)) this.#delete(cache, id);
    for (const [id, object] of next) this.#set(cache, id, object);
    cache.resourceVersion = resourceVersion;
    for (const [id, object] of next) {
      const before = previous.get(id);
      if (before === undefined || rvOf(before) !== rvOf(object)) this.#tell(cache.type, object, before);
    }
    for (const [id, before] of previous) if (!next.has(id)) this.#tell(cache.type, undefined, before);
  }

  /** Watches from the cached resourceVersion until the stream ends; true when the server says it is too old. */
  async #watch(cache: TypeCache): Promise<boolean> {
    let gone = false;
    await this.#client.watch(
      Client.pathOf(cache.type),
      // The server ends the watch well before the client takes silence for a dead connection.
      { labelSelector: this.#labelSelector, resourceVersion: cache.resourceVersion, allowWatchBookmarks: "true", timeoutSeconds: String(Math.max(1, Math.floor((this.#client.timeouts.watchIdleMs * 2) / 3000))) },
      (event) => {
        const object = event.object;
        if (!isJsonObject(object)) return;
        if (event.type === "ERROR") {
          if (object.code === 410) gone = true;
          return;
        }
        const rv = rvOf(object);
        if (rv) cache.resourceVersion = rv;
        if (event.type === "BOOKMARK") return;
        const full = { ...object, apiVersion: cache.type.apiVersion, kind: cache.type.kind };
        const id = idOf(cache.type, full);
        const before = cache.objects.get(id);
        if (event.type === "DELETED") {
          this.#delete(cache, id);
          this.#tell(cache.type, undefined, before ?? full);
        } else if (isNewer(full, before)) {
          this.#set(cache, id, full);
          if (before === undefined || rvOf(before) !== rv) this.#tell(cache.type, full, before);
        }
      },
      cache.abort.signal,
    );
    return gone;
  }

  #tell(type: ResourceType, object: JsonObject | undefined, previous: JsonObject | undefined): void {
    const meta = (object ?? previous)?.metadata;
    if (!isJsonObject(meta)) return;
    const change: CachedChange = {
      type,
      namespace: typeof meta.namespace === "string" ? meta.namespace : "",
      name: typeof meta.name === "string" ? meta.name : "",
      object,
      previous,
    };
    try {
      this.#onChange(change);
    } catch {
      // A failing listener must not stop the watch.
    }
  }
}

/** The value of a label of the object, if it has it. */
function labelValue(object: JsonObject | undefined, label: string): string | undefined {
  const meta = object?.metadata;
  const labels = isJsonObject(meta) && isJsonObject(meta.labels) ? meta.labels : undefined;
  const value = labels?.[label];
  return typeof value === "string" ? value : undefined;
}

function typeId(type: ResourceType): string {
  return `${type.apiVersion}/${type.kind}`;
}

function objectId(type: ResourceType, namespace: string, name: string): string {
  return `${type.namespaced ? namespace : ""}/${name}`;
}

function idOf(type: ResourceType, object: JsonObject): string {
  const meta = isJsonObject(object.metadata) ? object.metadata : {};
  return objectId(type, typeof meta.namespace === "string" ? meta.namespace : "", typeof meta.name === "string" ? meta.name : "");
}

/** The object's resourceVersion. */
export function rvOf(object: JsonObject | undefined): string {
  const meta = object?.metadata;
  return isJsonObject(meta) && typeof meta.resourceVersion === "string" ? meta.resourceVersion : "";
}

/**
 * True unless `before` is known to be newer. resourceVersions are opaque, but
 * every server in use (etcd) gives integers; when both are, an older event
 * arriving after Ferry's own write must not replace it.
 */
function isNewer(object: JsonObject, before: JsonObject | undefined): boolean {
  if (!before) return true;
  const a = rvOf(object);
  const b = rvOf(before);
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return BigInt(a) >= BigInt(b);
  return true;
}
