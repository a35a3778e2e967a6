import assert from "node:assert/strict";
import { test } from "node:test";
import { schemaProblems } from "../validate/schema-problems.js";
import type { Origin } from "../core/objects.js";
import { watchIntervalMs, watchSpecSchema } from "./watch-spec.js";

const origin: Origin = { file: "pipelines/web.yaml", line: 1, column: 1, document: 0, positions: {} };

function problems(value: unknown): string[] {
  return schemaProblems(watchSpecSchema, value, origin, "/spec/watch").map((p) => `${p.field}: ${p.message}`);
}

test("a directory watch block parses with the policy's defaults filled in", () => {
  const spec = watchSpecSchema.parse({ type: "directory", path: "/srv/artifacts", pattern: "web-{version}.tar.gz" });
  assert.deepEqual(spec, { type: "directory", path: "/srv/artifacts", pattern: "web-{version}.tar.gz", policy: { order: "semver" } });
});

test("each source type parses with its defaults", () => {
  assert.equal(watchSpecSchema.parse({ type: "npm", package: "@scope/web" }).type, "npm");
  const npm = watchSpecSchema.parse({ type: "npm", package: "left-pad" });
  assert.equal(npm.type === "npm" && npm.registry, "https://registry.npmjs.org");
  const oci = watchSpecSchema.parse({ type: "oci", repository: "localhost:5000/team/web", policy: { semver: "^2", order: "newest-build" }, interval: "5m" });
  assert.equal(oci.type === "oci" && oci.insecure, false);
  const http = watchSpecSchema.parse({ type: "http", url: "https://example.com/index.json", versions: "/releases" });
  assert.equal(http.type === "http" && http.versions, "/releases");
});

test("unknown fields, bad ranges, regexes without a group and bad patterns are errors that name the field", () => {
  assert.deepEqual(problems({ type: "directory", path: "/srv", pattern: "web-{version}.tgz", tags: 1 }), ['/spec/watch/tags: unknown field "tags"']);
  const bad = problems({ type: "directory", path: "/srv", pattern: "web.tgz", policy: { semver: "not a range", regex: "^web-\\d+$" }, interval: "soon" });
  assert.equal(bad.length, 4, bad.join("\n"));
  assert.ok(bad.some((p) => p.startsWith("/spec/watch/pattern: ") && p.includes("{version} exactly once")), bad.join("\n"));
  assert.ok(bad.some((p) => p.startsWith("/spec/watch/policy/semver: ") && p.includes("not a semver range")), bad.join("\n"));
  assert.ok(bad.some((p) => p.startsWith("/spec/watch/policy/regex: ") && p.includes("no capture group")), bad.join("\n"));
  assert.ok(bad.some((p) => p.startsWith("/spec/watch/interval: ") && p.includes("invalid duration")), bad.join("\n"));
  assert.ok(problems({ type: "ftp", path: "/srv" }).some((p) => p.startsWith("/spec/watch/type")), "an unknown type names the type field");
  assert.ok(problems({ type: "oci", repository: "Nginx:latest" }).some((p) => p.startsWith("/spec/watch/repository: ")));
  assert.ok(problems({ type: "directory", path: "/srv", pattern: "{version}", policy: { order: "oldest" } }).some((p) => p.startsWith("/spec/watch/policy/order: ")));
});

test("the interval defaults to 5m", () => {
  assert.equal(watchIntervalMs(watchSpecSchema.parse({ type: "npm", package: "web" })), 300_000);
  assert.equal(watchIntervalMs(watchSpecSchema.parse({ type: "npm", package: "web", interval: "30s" })), 30_000);
});
