import assert from "node:assert/strict";
import { test } from "node:test";
import { isInside, resolveInArtifact, resolveUnderRoot } from "./host-paths.js";

test("paths resolve under the root or not at all", () => {
  assert.equal(resolveUnderRoot("/srv/app", "etc/config.json"), "/srv/app/etc/config.json");
  assert.equal(resolveUnderRoot("/srv/app", "a/../b"), "/srv/app/b");
  assert.equal(resolveUnderRoot("/srv/app", "/srv/app/x"), "/srv/app/x");
  assert.equal(resolveUnderRoot("/srv/app", "."), "/srv/app");
  assert.equal(resolveUnderRoot("/srv/app", "../x"), undefined);
  assert.equal(resolveUnderRoot("/srv/app", "/srv/application/x"), undefined);
  assert.equal(resolveUnderRoot("/srv/app", "/etc/passwd"), undefined);
  assert.equal(isInside("/srv/app", "/srv/app/..x"), true);
});

test("contentFrom resolves beside its manifest and stays inside the artifact", () => {
  assert.equal(resolveInArtifact("/co", "apps/web/files.yaml", "config/a.ini"), "/co/apps/web/config/a.ini");
  assert.equal(resolveInArtifact("/co", "apps/web/files.yaml", "../../shared/a.ini"), "/co/shared/a.ini");
  assert.equal(resolveInArtifact("/co", "apps/web/files.yaml", "../../../etc/passwd"), undefined);
  assert.equal(resolveInArtifact("/co", "apps/web/files.yaml", "/etc/passwd"), undefined);
});
