import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { FakeKube } from "./index.js";
import { startFakeKube } from "./index.js";
import { call, deployment, paths } from "./test-http.js";
import type { JsonObject } from "./types.js";

function containers(obj: JsonObject): JsonObject[] {
  return (((obj["spec"] as JsonObject)["template"] as JsonObject)["spec"] as JsonObject)["containers"] as JsonObject[];
}

describe("fake kube-apiserver: patches", () => {
  let fake: FakeKube;
  before(async () => {
    fake = await startFakeKube({ simulateControllers: false });
  });
  after(() => fake.close());

  it("merge patch: maps merge, null deletes, lists replace; the patcher owns what it changed", async () => {
    await call(fake, "POST", paths.configmaps, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "mp", labels: { a: "1", b: "2" } }, data: { k: "v" } });
    const patched = await call(fake, "PATCH", `${paths.configmaps}/mp?fieldManager=tool`, { metadata: { labels: { b: null, c: "3" } }, data: { k: "w" } }, "application/merge-patch+json");
    assert.equal(patched.code, 200);
    assert.deepEqual((patched.body["metadata"] as JsonObject)["labels"], { a: "1", c: "3" });
    const tool = ((patched.body["metadata"] as JsonObject)["managedFields"] as JsonObject[]).find((m) => m["manager"] === "tool");
    assert.equal(tool?.["operation"], "Update");
    assert.deepEqual(tool?.["fieldsV1"], { "f:data": { "f:k": {} }, "f:metadata": { "f:labels": { "f:c": {} } } });
  });

  it("merge patch with a stale resourceVersion is a 409 Conflict", async () => {
    const cm = await call(fake, "POST", paths.configmaps, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "mp-rv" } });
    await call(fake, "PATCH", `${paths.configmaps}/mp-rv`, { data: { a: "1" } }, "application/merge-patch+json");
    const stale = await call(fake, "PATCH", `${paths.configmaps}/mp-rv`, { metadata: { resourceVersion: (cm.body["metadata"] as JsonObject)["resourceVersion"] }, data: { a: "2" } }, "application/merge-patch+json");
    assert.equal(stale.code, 409);
  });

  it("JSON patch: add, replace, remove and a failing test", async () => {
    await call(fake, "POST", paths.configmaps, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "jp" }, data: { a: "1" } });
    const ops = [
      { op: "add", path: "/data/b", value: "2" },
      { op: "replace", path: "/data/a", value: "9" },
      { op: "add", path: "/metadata/labels", value: { x: "y" } },
    ];
    const patched = await call(fake, "PATCH", `${paths.configmaps}/jp`, ops, "application/json-patch+json");
    assert.deepEqual(patched.body["data"], { a: "9", b: "2" });
    const removed = await call(fake, "PATCH", `${paths.configmaps}/jp`, [{ op: "remove", path: "/data/b" }], "application/json-patch+json");
    assert.deepEqual(removed.body["data"], { a: "9" });
    const failed = await call(fake, "PATCH", `${paths.configmaps}/jp`, [{ op: "test", path: "/data/a", value: "1" }, { op: "remove", path: "/data/a" }], "application/json-patch+json");
    assert.equal(failed.code, 422);
    assert.deepEqual(fake.get("v1", "ConfigMap", "default", "jp")?.["data"], { a: "9" });
    const missing = await call(fake, "PATCH", `${paths.configmaps}/jp`, [{ op: "remove", path: "/data/zzz" }], "application/json-patch+json");
    assert.equal(missing.code, 422);
  });

  it("strategic merge patch: containers merge by name, $patch: delete removes one, other lists replace", async () => {
    const d = deployment("smp");
    containers(d).push({ name: "proxy", image: "envoy:1" });
    await call(fake, "POST", paths.deployments, d);
    const patched = await call(fake, "PATCH", `${paths.deployments}/smp`, { spec: { template: { spec: { containers: [{ name: "web", image: "nginx:2" }] } } } }, "application/strategic-merge-patch+json");
    assert.equal(patched.code, 200);
    assert.deepEqual(containers(patched.body).map((c) => [c["name"], c["image"]]), [["web", "nginx:2"], ["proxy", "envoy:1"]]);
    const deleted = await call(fake, "PATCH", `${paths.deployments}/smp`, { spec: { template: { spec: { containers: [{ name: "proxy", $patch: "delete" }] } } } }, "application/strategic-merge-patch+json");
    assert.deepEqual(containers(deleted.body).map((c) => c["name"]), ["web"]);
    assert.equal((deleted.body["metadata"] as JsonObject)["generation"], 3);
  });

  it("answers 415 for unknown patch types and for strategic merge patches of custom resources", async () => {
    const unknown = await call(fake, "PATCH", `${paths.configmaps}/jp`, "{}", "application/xml");
    assert.equal(unknown.code, 415);
    assert.equal(unknown.body["reason"], "UnsupportedMediaType");
  });

  it("status subresource: writes to /status change only status; writes to the object leave status alone", async () => {
    await call(fake, "POST", paths.deployments, deployment("st"));
    const status = await call(fake, "PATCH", `${paths.deployments}/st/status`, { status: { replicas: 7 }, spec: { replicas: 9 } }, "application/merge-patch+json");
    assert.equal(status.code, 200);
    assert.equal((status.body["status"] as JsonObject)["replicas"], 7);
    assert.equal((status.body["spec"] as JsonObject)["replicas"], 1);
    assert.equal((status.body["metadata"] as JsonObject)["generation"], 1);
    const main = await call(fake, "PATCH", `${paths.deployments}/st`, { status: { replicas: 1 }, spec: { replicas: 2 } }, "application/merge-patch+json");
    assert.equal((main.body["status"] as JsonObject)["replicas"], 7);
    assert.equal((main.body["spec"] as JsonObject)["replicas"], 2);
    assert.equal((main.body["metadata"] as JsonObject)["generation"], 2);
    assert.equal((await call(fake, "GET", `${paths.configmaps}/jp/status`)).code, 404);
    const applied = await call(fake, "PATCH", `${paths.deployments}/st/status?fieldManager=probe`, { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "st" }, status: { readyReplicas: 1 } }, "application/apply-patch+yaml");
    assert.equal(applied.code, 200);
    assert.equal((applied.body["status"] as JsonObject)["readyReplicas"], 1);
    const probe = ((applied.body["metadata"] as JsonObject)["managedFields"] as JsonObject[]).find((m) => m["manager"] === "probe");
    assert.deepEqual([probe?.["operation"], probe?.["subresource"], probe?.["fieldsV1"]], ["Apply", "status", { "f:status": { "f:readyReplicas": {} } }]);
  });
});
