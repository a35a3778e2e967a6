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
});
