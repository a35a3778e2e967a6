import assert from "node:assert/strict";
import { test } from "node:test";
import type { Candidate } from "./version-policy.js";
import { admitVersion, selectNewest } from "./version-policy.js";
import type { VersionPolicy } from "./watch-spec.js";

const names = (list: string[]): Candidate[] => list.map((name) => ({ name }));

test("semver order picks the highest version and ignores names that are not semver", () => {
  const policy: VersionPolicy = { order: "semver" };
  assert.equal(selectNewest(names(["1.2.0", "1.10.0", "latest", "1.9.9", "main-abc123"]), policy)?.version, "1.10.0");
  assert.equal(selectNewest(names(["latest", "main"]), policy), undefined);
});

test("a tag keeps its spelling: v2.0.0 is reported as v2.0.0", () => {
  assert.equal(selectNewest(names(["v1.0.0", "v2.0.0"]), { order: "semver" })?.version, "v2.0.0");
});

test("prereleases are left out unless the range names one, as npm does", () => {
  const list = names(["1.0.0", "2.0.0-rc.1", "1.1.0"]);
  assert.equal(selectNewest(list, { order: "semver" })?.version, "1.1.0");
  assert.equal(selectNewest(list, { order: "semver", semver: "^1.0.0" })?.version, "1.1.0");
  assert.equal(selectNewest(list, { order: "semver", semver: ">=2.0.0-rc.0" })?.version, "2.0.0-rc.1");
});

test("a range bounds the choice", () => {
  assert.equal(selectNewest(names(["1.4.0", "2.1.0", "3.0.0"]), { order: "semver", semver: "^2" })?.version, "2.1.0");
  assert.equal(selectNewest(names(["1.4.0", "3.0.0"]), { order: "semver", semver: "^2" }), undefined);
});

test("a regex filters names and its capture is the version", () => {
  const policy: VersionPolicy = { order: "semver", regex: "^web-(\\d+\\.\\d+\\.\\d+)-linux$" };
  assert.equal(selectNewest(names(["web-1.0.0-linux", "web-3.0.0-darwin", "web-2.0.0-linux", "api-9.0.0-linux"]), policy)?.version, "2.0.0");
  assert.equal(admitVersion("release-7.1.0", { order: "semver", regex: "^(release)-(?<version>.+)$" }), "7.1.0");
});

test("newest-build picks the latest build time and leaves out candidates without one", () => {
  const list: Candidate[] = [
    { name: "main-aaa", builtAt: 1000 },
    { name: "main-ccc", builtAt: 3000 },
    { name: "main-bbb", builtAt: 2000 },
    { name: "main-zzz" },
  ];
  assert.equal(selectNewest(list, { order: "newest-build" })?.version, "main-ccc");
  assert.equal(selectNewest(list, { order: "newest-build", regex: "^main-([ab].*)$" })?.version, "bbb");
  // With a range, newest-build still needs semver names.
  assert.equal(selectNewest([...list, { name: "1.0.0", builtAt: 10 }], { order: "newest-build", semver: "*" })?.version, "1.0.0");
});
