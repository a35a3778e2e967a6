import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { test } from "node:test";
import { FerryError } from "../core/errors.js";
import { watchSpecSchema } from "./watch-spec.js";
import { createWatcher } from "./watcher.js";
import { sendJson, startServer } from "../../test/support/watch-test-support.js";

const tarballs: Readonly<Record<string, string>> = { "1.0.0": "tarball one", "1.4.2": "tarball four two", "2.0.0-beta.1": "beta", "0.9.0": "old" };
const sha256 = (text: string) => `sha256:${createHash("sha256").update(text).digest("hex")}`;
const sri = (text: string) => `sha512-${createHash("sha512").update(text).digest("base64")}`;
const published: Readonly<Record<string, string>> = { "0.9.0": "2026-05-01T00:00:00Z", "1.0.0": "2026-01-01T00:00:00Z", "1.4.2": "2026-02-01T00:00:00Z", "2.0.0-beta.1": "2026-03-01T00:00:00Z" };

/** An npm registry for `@team/web`: abbreviated packument when asked for it, full with `time` otherwise. */
function npmRegistry(options: { corrupt?: boolean } = {}) {
  return (req: IncomingMessage, res: ServerResponse, base: string): void => {
    const url = new URL(req.url ?? "/", base);
    const tarball = /^\/@team\/web\/-\/web-(.+)\.tgz$/.exec(url.pathname);
    if (tarball) {
      const body = tarballs[tarball[1] ?? ""];
      if (body === undefined) res.writeHead(404).end();
      else res.end(options.corrupt ? `${body}!` : body);
      return;
    }
    if (url.pathname !== "/@team%2fweb") {
      res.writeHead(404).end('{"error":"Not found"}');
      return;
    }
    const abbreviated = (req.headers.accept ?? "").startsWith("application/vnd.npm.install-v1+json");
    const versions = Object.fromEntries(
      Object.entries(tarballs).map(([version, body]) => [version, { name: "@team/web", version, dist: { tarball: `${base}/@team/web/-/web-${version}.tgz`, integrity: sri(body), shasum: "ignored" } }]),
    );
    sendJson(req, res, {
      name: "@team/web",
      "dist-tags": { latest: "1.0.0", next: "2.0.0-beta.1" },
      versions,
      ...(abbreviated ? { modified: "2026-05-01T00:00:00Z" } : { time: { created: "2025-12-01T00:00:00Z", ...published } }),
    });
  };
}

test("the npm watcher reads the abbreviated packument, picks the highest release and gives the tarball's sha256 after checking its integrity", async (t) => {
  const server = await startServer(t, npmRegistry());
  const watcher = createWatcher(watchSpecSchema.parse({ type: "npm", package: "@team/web", registry: server.base }));
  assert.equal(watcher.description, `npm package @team/web (${server.base}/)`);
  assert.deepEqual(await watcher.latest(), { version: "1.4.2", digest: sha256("tarball four two"), url: `${server.base}/@team/web/-/web-1.4.2.tgz` });
  assert.match(server.requests[0]?.headers.accept ?? "", /^application\/vnd\.npm\.install-v1\+json/);

  // The second poll: a 304 for the packument and no second download of the tarball.
  await watcher.latest();
  const statuses = server.requests.map((r) => `${r.url} ${r.status}`);
  assert.deepEqual(statuses, ["/@team%2fweb 200", "/@team/web/-/web-1.4.2.tgz 200", "/@team%2fweb 304"]);
});

test("a range, a dist-tag and newest-build (from the full packument's publish times) choose differently", async (t) => {
  const server = await startServer(t, npmRegistry());
  const watch = (extra: object) => createWatcher(watchSpecSchema.parse({ type: "npm", package: "@team/web", registry: server.base, ...extra }));
  assert.equal((await watch({ policy: { semver: "~1.0" } }).latest())?.version, "1.0.0");
  assert.equal((await watch({ policy: { semver: ">=2.0.0-beta.0" } }).latest())?.version, "2.0.0-beta.1");
  assert.equal((await watch({ distTag: "next", policy: { semver: "*", regex: "^(.*)$", order: "newest-build" } }).latest())?.version, undefined, "a prerelease is outside *");
  assert.equal((await watch({ distTag: "latest" }).latest())?.version, "1.0.0");
  const before = server.requests.length;
  assert.equal((await watch({ policy: { order: "newest-build" } }).latest())?.version, "0.9.0");
  assert.equal(server.requests[before]?.headers.accept, "application/json");
  await assert.rejects(watch({ distTag: "canary" }).latest(), /there is no dist-tag "canary"/);
});

test("a tarball that does not match the registry's integrity is a stalled error; an unknown package names itself", async (t) => {
  const server = await startServer(t, npmRegistry({ corrupt: true }));
  await assert.rejects(createWatcher(watchSpecSchema.parse({ type: "npm", package: "@team/web", registry: server.base })).latest(), (error) => {
    assert.ok(error instanceof FerryError);
    assert.equal(error.reason, "WatchIntegrityMismatch");
    assert.match(error.message, /the tarball of 1\.4\.2 has integrity sha512-.*, not the registry's sha512-/);
    return true;
  });
  await assert.rejects(createWatcher(watchSpecSchema.parse({ type: "npm", package: "nope", registry: server.base })).latest(), (error) => {
    assert.ok(error instanceof FerryError);
    assert.equal(error.reason, "WatchSourceNotFound");
    assert.match(error.message, /^npm package nope \(.*\): GET .*\/nope answered 404/);
    return true;
  });
});
