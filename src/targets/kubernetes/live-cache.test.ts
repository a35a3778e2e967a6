import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startFakeKube } from "../../../test/support/kube-fake/index.js";
import type { FakeKube } from "../../../test/support/kube-fake/index.js";
import { isJsonObject } from "../../core/json.js";
import { clientFor } from "../../../test/support/kube-test-support.js";
import type { CachedChange } from "./live-cache.js";
import { LiveCache } from "./live-cache.js";

describe("LiveCache", () => {
  let fake: FakeKube;
  before(async () => {
    // A short history: a watch that falls more than 3 changes behind gets 410 Gone.
    fake = await startFakeKube({ watchHistory: 3 });
  });
  after(() => fake.close());

  it("lists again when its resourceVersion is too old (410), and tells about what changed meanwhile", async () => {
    const client = clientFor(fake.kubeconfigPath, "fake");
    const res = await client.request({
      method: "POST",
      path: "/api/v1/namespaces/default/configmaps",
      body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "watched", labels: { "ferry.dev/application": "shop" } }, data: { n: "0" } },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const type = await client.resourceType("v1", "ConfigMap");
    fake.stats.reset();
    assert.ok(type);
    const changes: CachedChange[] = [];
    const cache = new LiveCache(client, "ferry.dev/application", (c) => changes.push(c), 50);
    try {
      await cache.ensure(type);
      const listed = cache.get(type, "default", "watched");
      assert.ok(listed && listed !== "unwatched");
      // Before the watch is open: more changes than the server keeps, so it must start over from a list.
      for (let i = 1; i <= 10; i++) {
        fake.edit("v1", "ConfigMap", "default", "watched", (o) => {
          o.data = { n: String(i) };
        });
      }
      const deadline = Date.now() + 10_000;
      for (;;) {
        const cached = cache.get(type, "default", "watched");
        if (cached !== "unwatched" && isJsonObject(cached?.data) && cached.data.n === "10") break;
        if (Date.now() > deadline) throw new Error(`the cache never saw the last change; it has ${JSON.stringify(cached)}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      assert.ok(changes.some((c) => c.name === "watched" && isJsonObject(c.object?.data) && c.object.data.n === "10"), "the change is told");
      assert.equal(cache.watchedTypes, 1, "one watch for the type");
      assert.ok((fake.stats.byVerb.list ?? 0) >= 2, `listed again after 410 Gone: ${JSON.stringify(fake.stats.byVerb)}`);
    } finally {
      cache.close();
      client.close();
    }
  });

  it("finds cached objects by their label's value, and follows relabels and deletes", async () => {
    const client = clientFor(fake.kubeconfigPath, "fake");
    const create = (name: string, app: string) =>
      client.request({ method: "POST", path: "/api/v1/namespaces/default/configmaps", body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name, labels: { "ferry.dev/application": app } } } });
    assert.equal((await create("cart-a", "cart")).status, 201);
    assert.equal((await create("cart-b", "cart")).status, 201);
    assert.equal((await create("till-a", "till")).status, 201);
    const type = await client.resourceType("v1", "ConfigMap");
    assert.ok(type);
    const cache = new LiveCache(client, "ferry.dev/application", () => undefined, 50);
    const names = (value: string) => cache.labelled(value).map((o) => String((o.object.metadata as { name: string }).name)).sort();
    const until = async (value: string, expected: string[]) => {
      const deadline = Date.now() + 10_000;
      while (JSON.stringify(names(value)) !== JSON.stringify(expected)) {
        if (Date.now() > deadline) throw new Error(`labelled ${value}: ${JSON.stringify(names(value))}, not ${JSON.stringify(expected)}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    };
    try {
      await cache.ensure(type);
      assert.deepEqual(names("cart"), ["cart-a", "cart-b"]);
      assert.deepEqual(names("till"), ["till-a"]);
      // Relabelled by someone: it moves from one value to the other.
      const moved = await client.request({ method: "PATCH", path: "/api/v1/namespaces/default/configmaps/cart-b", body: { metadata: { labels: { "ferry.dev/application": "till" } } }, contentType: "application/merge-patch+json" });
      assert.equal(moved.status, 200, JSON.stringify(moved.body));
      await until("till", ["cart-b", "till-a"]);
      assert.deepEqual(names("cart"), ["cart-a"]);
      // Deleted behind the cache's back, and forgotten by Ferry's own delete.
      assert.ok((await client.request({ method: "DELETE", path: "/api/v1/namespaces/default/configmaps/cart-a" })).status < 300);
      await until("cart", []);
      cache.remove(type, "default", "till-a");
      assert.deepEqual(names("till"), ["cart-b"]);
    } finally {
      cache.close();
      client.close();
    }
  });
});
