import assert from "node:assert/strict";
import { test } from "node:test";
import { scopePush } from "./push-scope.js";

const apps = [
  { name: "a", directories: ["apps/a"] },
  { name: "b", directories: ["apps/b"] },
  { name: "b-prd", directories: ["apps/b-envs/prd", "apps/b"] },
];

test("a push touching one application's directory scopes to it (and to overlays over it)", () => {
  assert.deepEqual(scopePush(["apps/a/x.yaml"], apps, "ferry"), { config: false, applications: ["a"] });
  assert.deepEqual(scopePush(["apps/b/base.yaml"], apps, "ferry"), { config: false, applications: ["b", "b-prd"] });
  assert.deepEqual(scopePush(["apps/b-envs/prd/patch.yaml"], apps, "ferry"), { config: false, applications: ["b-prd"] });
});

test("a directory is not a prefix of its sibling: apps/a does not own apps/ab", () => {
  assert.deepEqual(scopePush(["apps/a/x", "apps/ab/y"], [...apps, { name: "ab", directories: ["./apps/ab/"] }], "ferry"), { config: false, applications: ["a", "ab"] });
});

test("the configuration's directory reloads the configuration only", () => {
  assert.deepEqual(scopePush(["ferry/apps.yaml"], apps, "ferry"), { config: true, applications: [] });
});

test("a file in no known directory may be read by any application: all run", () => {
  assert.deepEqual(scopePush(["shared/cert.pem"], apps, "ferry"), { config: false, applications: ["a", "b", "b-prd"] });
});

test("no file changed, nothing runs; an application at the root sees every file", () => {
  assert.deepEqual(scopePush([], apps, "ferry"), { config: false, applications: [] });
  assert.deepEqual(scopePush(["README.md"], [{ name: "root", directories: ["."] }]), { config: false, applications: ["root"] });
});
