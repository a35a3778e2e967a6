import assert from "node:assert/strict";
import { test } from "node:test";
import { FerryError } from "../core/errors.js";
import { findList } from "./http-index-watcher.js";
import { watchSpecSchema } from "./watch-spec.js";
import { createWatcher } from "./watcher.js";
import { startServer } from "../../test/support/watch-test-support.js";

const DIGEST = `sha256:${"a".repeat(64)}`;
const MODIFIED = "Wed, 01 Apr 2026 10:00:00 GMT";

test("the http index watcher reads the list at a pointer, resolves relative URLs and asks with If-Modified-Since", async (t) => {
  const index = {
    data: {
      releases: [
        { version: "1.0.0", url: "files/web-1.0.0.tgz", digest: DIGEST, published: "2026-03-01T00:00:00Z" },
        { version: "1.1.0", url: "https://cdn.example.com/web-1.1.0.tgz", published: "2026-02-01T00:00:00Z" },
        { version: "1.2.0", digest: "md5:nope" },
        { version: "not-semver" },
        "0.5.0",
      ],
    },
  };
  const server = await startServer(t, (req, res) => {
    if (req.url !== "/web/index.json") return void res.writeHead(404).end();
    if (req.headers["if-modified-since"] === MODIFIED) return void res.writeHead(304).end();
    res.writeHead(200, { "Content-Type": "application/json", "Last-Modified": MODIFIED }).end(JSON.stringify(index));
  });
  const url = `${server.base}/web/index.json`;
  const watch = (extra: object) => createWatcher(watchSpecSchema.parse({ type: "http", url, versions: "/data/releases", ...extra }));
  const watcher = watch({});
  assert.equal(watcher.description, `http index ${url}`);
  assert.deepEqual(await watcher.latest(), { version: "1.1.0", url: "https://cdn.example.com/web-1.1.0.tgz" });
  assert.deepEqual(await watcher.latest(), { version: "1.1.0", url: "https://cdn.example.com/web-1.1.0.tgz" });
  assert.deepEqual(server.requests.map((r) => r.status), [200, 304]);
  assert.deepEqual(await watch({ versions: "data.releases", policy: { order: "newest-build" } }).latest(), {
    version: "1.0.0",
    digest: DIGEST,
    url: `${server.base}/web/files/web-1.0.0.tgz`,
  });
});

test("an index that is not a list, or a 503 with a Retry-After date, are errors naming the index", async (t) => {
  let now = Date.parse("2026-04-01T10:00:00Z");
  const server = await startServer(t, (req, res) => {
    if (req.url === "/busy") return void res.writeHead(503, { "Retry-After": "Wed, 01 Apr 2026 10:30:00 GMT" }).end();
    res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ versions: { "1.0.0": {} } }));
  });
  await assert.rejects(createWatcher(watchSpecSchema.parse({ type: "http", url: `${server.base}/index.json` })).latest(), (error) => {
    assert.ok(error instanceof FerryError);
    assert.equal(error.disposition, "stalled");
    assert.match(error.message, /^http index http:\/\/127\.0\.0\.1:\d+\/index\.json: the document \(or its `versions` field\) is not a list of versions$/);
    return true;
  });
  const busy = createWatcher(watchSpecSchema.parse({ type: "http", url: `${server.base}/busy` }), { now: () => now, random: () => 0 });
  await assert.rejects(busy.latest(), /answered 503/);
  now += 10 * 60_000;
  await assert.rejects(busy.latest(), /not asking again before 2026-04-01T10:30:00\.000Z/);
  assert.equal(server.requests.filter((r) => r.url === "/busy").length, 1);
});

test("findList reads pointers, dotted paths and the default places", () => {
  assert.deepEqual(findList(["1"], undefined), ["1"]);
  assert.deepEqual(findList({ versions: ["2"] }, undefined), ["2"]);
  assert.deepEqual(findList({ a: { "b/c": [3] } }, "/a/b~1c"), [3]);
  assert.deepEqual(findList({ a: [{ b: [4] }] }, "a.0.b"), [4]);
  assert.equal(findList({ a: 1 }, "/a/b"), undefined);
});
