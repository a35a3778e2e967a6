import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { FakeKube } from "./index.js";
import { startFakeKube } from "./index.js";
import { call, paths } from "./test-http.js";
import { openWatch } from "./test-watch.js";
import type { JsonObject } from "./types.js";

function configMap(name: string, labels: Record<string, string>, data: Record<string, string> = {}): JsonObject {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, labels }, data };
}

function names(list: JsonObject): string[] {
  return (list["items"] as { metadata: { name: string } }[]).map((i) => i.metadata.name);
}

function rvOf(obj: JsonObject): string {
  return String((obj["metadata"] as JsonObject)["resourceVersion"]);
}

describe("fake kube-apiserver: list and watch", () => {
  let fake: FakeKube;
  before(async () => {
    fake = await startFakeKube({ simulateControllers: false, watchHistory: 20, bookmarkIntervalMs: 200 });
    await call(fake, "POST", paths.configmaps, configMap("a", { app: "shop", tier: "web" }));
    await call(fake, "POST", paths.configmaps, configMap("b", { app: "shop", tier: "db" }));
    await call(fake, "POST", paths.configmaps, configMap("c", { app: "blog" }));
    await call(fake, "POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "other" } });
    await call(fake, "POST", "/api/v1/namespaces/other/configmaps", configMap("d", { app: "shop" }));
  });
  after(() => fake.close());

  it("lists with a List kind, a resourceVersion and items without kind (as the real server)", async () => {
    const list = await call(fake, "GET", paths.configmaps);
    assert.equal(list.body["kind"], "ConfigMapList");
    assert.match(rvOf(list.body), /^\d+$/);
    assert.deepEqual(names(list.body), ["a", "b", "c"]);
    assert.equal((list.body["items"] as JsonObject[])[0]?.["kind"], undefined);
    assert.deepEqual(names((await call(fake, "GET", "/api/v1/configmaps")).body), ["a", "b", "c", "d"]);
  });

  it("filters by label selectors: =, ==, !=, in, notin, exists and !key", async () => {
    const select = async (selector: string): Promise<string[]> => names((await call(fake, "GET", `${paths.configmaps}?labelSelector=${encodeURIComponent(selector)}`)).body);
    assert.deepEqual(await select("app=shop"), ["a", "b"]);
    assert.deepEqual(await select("app==shop,tier=db"), ["b"]);
    assert.deepEqual(await select("app!=shop"), ["c"]);
    assert.deepEqual(await select("tier in (web, db)"), ["a", "b"]);
    assert.deepEqual(await select("tier notin (web)"), ["b", "c"]);
    assert.deepEqual(await select("tier"), ["a", "b"]);
    assert.deepEqual(await select("!tier"), ["c"]);
    const bad = await call(fake, "GET", `${paths.configmaps}?labelSelector=${encodeURIComponent("app=in valid")}`);
    assert.equal(bad.code, 400);
  });

  it("filters by field selectors on metadata.name and metadata.namespace, refusing other fields", async () => {
    assert.deepEqual(names((await call(fake, "GET", `${paths.configmaps}?fieldSelector=metadata.name%3Db`)).body), ["b"]);
    assert.deepEqual(names((await call(fake, "GET", `/api/v1/configmaps?fieldSelector=metadata.namespace%3Dother`)).body), ["d"]);
    assert.equal((await call(fake, "GET", `${paths.configmaps}?fieldSelector=data.x%3D1`)).code, 400);
  });

  it("pages with limit and continue", async () => {
    const first = await call(fake, "GET", `${paths.configmaps}?limit=2`);
    assert.deepEqual(names(first.body), ["a", "b"]);
    const token = String((first.body["metadata"] as JsonObject)["continue"]);
    assert.equal((first.body["metadata"] as JsonObject)["remainingItemCount"], 1);
    const second = await call(fake, "GET", `${paths.configmaps}?limit=2&continue=${token}`);
    assert.deepEqual(names(second.body), ["c"]);
    assert.equal((second.body["metadata"] as JsonObject)["continue"], undefined);
  });

  it("watches from now: current objects as ADDED, then MODIFIED and DELETED with resourceVersions", async () => {
    const watch = await openWatch(fake, paths.configmaps, "labelSelector=app%3Dshop");
    try {
      const initial = await watch.next(2);
      assert.deepEqual(initial.map((e) => [e.type, (e.object["metadata"] as JsonObject)["name"]]), [["ADDED", "a"], ["ADDED", "b"]]);
      assert.equal(initial[0]?.object["kind"], "ConfigMap");
      await call(fake, "PATCH", `${paths.configmaps}/a`, { data: { x: "1" } }, "application/merge-patch+json");
      const [modified] = await watch.next(1);
      assert.equal(modified?.type, "MODIFIED");
      assert.deepEqual(modified?.object["data"], { x: "1" });
      await call(fake, "DELETE", `${paths.configmaps}/b`);
      const [deleted] = await watch.next(1);
      assert.equal(deleted?.type, "DELETED");
      assert.ok(Number(rvOf(deleted?.object ?? {})) > Number(rvOf(modified?.object ?? {})));
      await call(fake, "POST", paths.configmaps, configMap("b", { app: "shop", tier: "db" }));
      assert.equal((await watch.next(1))[0]?.type, "ADDED");
    } finally {
      watch.close();
    }
  });

  it("reports an object leaving the selector as DELETED and one entering it as ADDED", async () => {
    const watch = await openWatch(fake, paths.configmaps, `labelSelector=app%3Dblog&resourceVersion=${rvOf((await call(fake, "GET", paths.configmaps)).body)}`);
    try {
      await call(fake, "PATCH", `${paths.configmaps}/c`, { metadata: { labels: { app: "gone" } } }, "application/merge-patch+json");
      assert.equal((await watch.next(1))[0]?.type, "DELETED");
      await call(fake, "PATCH", `${paths.configmaps}/c`, { metadata: { labels: { app: "blog" } } }, "application/merge-patch+json");
      assert.equal((await watch.next(1))[0]?.type, "ADDED");
    } finally {
      watch.close();
    }
  });

  it("replays changes after a resourceVersion, sends bookmarks when allowed, and edits from outside emit events", async () => {
    const start = rvOf((await call(fake, "GET", paths.configmaps)).body);
    await call(fake, "PATCH", `${paths.configmaps}/a`, { data: { x: "2" } }, "application/merge-patch+json");
    fake.edit("v1", "ConfigMap", "default", "a", (cm) => {
      cm["data"] = { x: "3" };
    });
    const watch = await openWatch(fake, paths.configmaps, `resourceVersion=${start}&allowWatchBookmarks=true`);
    try {
      const replay = await watch.next(2);
      assert.deepEqual(replay.map((e) => [e.type, (e.object["data"] as JsonObject)["x"]]), [["MODIFIED", "2"], ["MODIFIED", "3"]]);
      const [bookmark] = await watch.next(1);
      assert.equal(bookmark?.type, "BOOKMARK");
      assert.equal(bookmark?.object["kind"], "ConfigMap");
      assert.match(rvOf(bookmark?.object ?? {}), /^\d+$/);
    } finally {
      watch.close();
    }
  });

  it("sends initial events ending with the initial-events-end bookmark when asked", async () => {
    const watch = await openWatch(fake, paths.configmaps, "labelSelector=app%3Dshop&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true");
    try {
      const events = await watch.next(3);
      assert.deepEqual(events.map((e) => e.type), ["ADDED", "ADDED", "BOOKMARK"]);
      assert.deepEqual((events[2]?.object["metadata"] as JsonObject)["annotations"], { "k8s.io/initial-events-end": "true" });
    } finally {
      watch.close();
    }
  });

  it("answers a watch from a resourceVersion older than the history with an ERROR event of 410 Expired", async () => {
    for (let i = 0; i < 25; i++) await call(fake, "PATCH", `${paths.configmaps}/a`, { data: { n: String(i) } }, "application/merge-patch+json");
    const watch = await openWatch(fake, paths.configmaps, "resourceVersion=1");
    try {
      const [error] = await watch.next(1);
      assert.equal(error?.type, "ERROR");
      assert.equal(error?.object["code"], 410);
      assert.equal(error?.object["reason"], "Expired");
      assert.match(String(error?.object["message"]), /^too old resource version: 1 \(\d+\)$/);
    } finally {
      watch.close();
    }
  });
});
