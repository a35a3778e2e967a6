// Watch streams: newline-delimited JSON events (ADDED, MODIFIED, DELETED,
// BOOKMARK, ERROR) over a chunked 200 response, replayed from a
// resourceVersion and then followed; an object leaving a label selector is
// reported DELETED, one entering it ADDED, as the real watch cache does.
import type { ServerResponse } from "node:http";
import type { FakeCluster } from "./cluster.js";
import type { Target } from "./object-api.js";
import type { Selector } from "./selectors.js";
import { expired } from "./status.js";
import type { StoreEvent } from "./store.js";
import { resourceKey } from "./store.js";
import type { JsonObject } from "./types.js";
import { apiVersionOf, objectField, stringField } from "./types.js";

/** What a watch request asked for. */
export interface WatchRequest {
  readonly target: Target;
  readonly selectors: readonly Selector[];
  /** The resourceVersion to start after; undefined or "0" starts with the current objects as ADDED. */
  readonly resourceVersion: string | undefined;
  readonly allowBookmarks: boolean;
  /** Send current objects first, then a BOOKMARK marking the end of them (sendInitialEvents=true). */
  readonly sendInitialEvents: boolean;
  readonly timeoutSeconds: number | undefined;
  readonly bookmarkIntervalMs: number;
}

type EventType = "ADDED" | "MODIFIED" | "DELETED";

function matches(selectors: readonly Selector[], obj: JsonObject | undefined): boolean {
  return obj !== undefined && selectors.every((s) => s(obj));
}

/** The event a watcher sees for a store change, or undefined when it sees nothing. */
function viewOf(w: WatchRequest, event: StoreEvent): { type: EventType; object: JsonObject } | undefined {
  const t = w.target;
  if (event.resource !== resourceKey(t.type.group, t.type.plural)) return undefined;
  if (t.namespace !== undefined && stringField(objectField(event.object, "metadata"), "namespace") !== t.namespace) return undefined;
  const now = matches(w.selectors, event.object);
  const before = matches(w.selectors, event.previous);
  switch (event.type) {
    case "ADDED":
      return now ? { type: "ADDED", object: event.object } : undefined;
    case "DELETED":
      return before || now ? { type: "DELETED", object: event.object } : undefined;
    case "MODIFIED":
      if (now && before) return { type: "MODIFIED", object: event.object };
      if (now) return { type: "ADDED", object: event.object };
      if (before) return { type: "DELETED", object: event.object };
      return undefined;
  }
}

/** Serves one watch until the client goes away, the timeout passes or `stop` is called; returns `stop`. */
export function serveWatch(cluster: FakeCluster, w: WatchRequest, res: ServerResponse): () => void {
  const t = w.target;
  const apiVersion = apiVersionOf(t.type.group, t.version);
  res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-cache, private", "Transfer-Encoding": "chunked" });
  res.flushHeaders();
  const send = (type: string, object: JsonObject): void => {
    res.write(JSON.stringify({ type, object }) + "\n");
  };
  const sendObject = (type: EventType, object: JsonObject): void => send(type, cluster.api.served(t.type, t.version, object));
  const bookmark = (annotations?: JsonObject): void => {
    const metadata: JsonObject = { resourceVersion: String(cluster.store.currentVersion) };
    if (annotations) metadata["annotations"] = annotations;
    send("BOOKMARK", { kind: t.type.kind, apiVersion, metadata });
  };

  const requested = w.resourceVersion;
  const fromNow = requested === undefined || requested === "" || requested === "0";
  let replay: StoreEvent[] = [];
  if (w.sendInitialEvents || fromNow) {
    for (const obj of cluster.api.list({ ...t, name: undefined }, w.selectors).body["items"] as JsonObject[]) {
      const stored = cluster.api.stored({ ...t, namespace: stringField(objectField(obj, "metadata"), "namespace"), name: stringField(objectField(obj, "metadata"), "name") });
      if (stored) sendObject("ADDED", stored);
    }
    if (w.sendInitialEvents && w.allowBookmarks) bookmark({ "k8s.io/initial-events-end": "true" });
  } else {
    const since = Number(requested);
    const events = Number.isInteger(since) ? cluster.store.eventsSince(since) : undefined;
    if (!Number.isInteger(since)) {
      send("ERROR", { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: `invalid resource version "${requested}"`, reason: "BadRequest", code: 400 });
      res.end();
      return () => undefined;
    }
    if (!events) {
      send("ERROR", expired(requested, cluster.store.oldestVersion + 1).toStatus());
      res.end();
      return () => undefined;
    }
    replay = events;
  }
  for (const event of replay) {
    const view = viewOf(w, event);
    if (view) sendObject(view.type, view.object);
  }

  const unsubscribe = cluster.store.subscribe((event) => {
    const view = viewOf(w, event);
    if (view) sendObject(view.type, view.object);
  });
  const bookmarks = w.allowBookmarks ? setInterval(() => bookmark(), w.bookmarkIntervalMs) : undefined;
  const timeout = w.timeoutSeconds !== undefined ? setTimeout(() => stop(), w.timeoutSeconds * 1000) : undefined;
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    unsubscribe();
    if (bookmarks) clearInterval(bookmarks);
    if (timeout) clearTimeout(timeout);
    res.end();
  };
  res.on("close", stop);
  return stop;
}
