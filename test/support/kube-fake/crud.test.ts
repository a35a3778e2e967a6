import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { FakeKube } from "./index.js";
import { startFakeKube } from "./index.js";
import { call, deployment, paths } from "./test-http.js";

describe("fake kube-apiserver: discovery and CRUD over HTTP", () => {
  let fake: FakeKube;
  before(async () => {
    fake = await startFakeKube();
  });
  after(() => fake.close());

  it("serves discovery documents clients start from", async () => {
    assert.equal((await call(fake, "GET", "/version")).body["major"], "1");
    assert.deepEqual((await call(fake, "GET", "/api")).body["versions"], ["v1"]);
    const groups = (await call(fake, "GET", "/apis")).body["groups"] as { name: string }[];
    assert.ok(groups.some((g) => g.name === "apps"));
    assert.ok(groups.some((g) => g.name === "apiextensions.k8s.io"));
    const apps = await call(fake, "GET", "/apis/apps/v1");
    const resources = apps.body["resources"] as { name: string; namespaced: boolean; kind: string; verbs: string[]; shortNames?: string[] }[];
    const deploy = resources.find((r) => r.name === "deployments");
    assert.equal(deploy?.kind, "Deployment");
    assert.equal(deploy?.namespaced, true);
    assert.deepEqual(deploy?.shortNames, ["deploy"]);
    assert.ok(deploy?.verbs.includes("watch"));
    assert.ok(resources.some((r) => r.name === "deployments/status"));
    assert.equal((await call(fake, "GET", "/apis/nope.example.com/v1")).code, 404);
  });

  it("creates with server-set metadata and defaults, and refuses a duplicate with 409 AlreadyExists", async () => {
    const created = await call(fake, "POST", paths.deployments, deployment("crud-web"));
    assert.equal(created.code, 201);
    const meta = created.body["metadata"] as Record<string, unknown>;
    assert.match(String(meta["uid"]), /^[0-9a-f-]{36}$/);
    assert.match(String(meta["resourceVersion"]), /^\d+$/);
    assert.match(String(meta["creationTimestamp"]), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(meta["generation"], 1);
    assert.equal((created.body["spec"] as Record<string, unknown>)["replicas"], 1);
    const again = await call(fake, "POST", paths.deployments, deployment("crud-web"));
    assert.equal(again.code, 409);
    assert.equal(again.body["kind"], "Status");
    assert.equal(again.body["reason"], "AlreadyExists");
    assert.equal(again.body["message"], 'deployments.apps "crud-web" already exists');
  });

  it("answers 404 NotFound with a Status for a missing object and a missing namespace", async () => {
    const missing = await call(fake, "GET", `${paths.configmaps}/nothing`);
    assert.equal(missing.code, 404);
    assert.equal(missing.body["reason"], "NotFound");
    assert.equal(missing.body["message"], 'configmaps "nothing" not found');
    const noNamespace = await call(fake, "POST", "/api/v1/namespaces/absent/configmaps", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } });
    assert.equal(noNamespace.code, 404);
    assert.equal(noNamespace.body["message"], 'namespaces "absent" not found');
  });

  it("updates with optimistic concurrency: a stale resourceVersion gets 409 Conflict", async () => {
    const created = await call(fake, "POST", paths.configmaps, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "occ" }, data: { a: "1" } });
    const first = structuredClone(created.body);
    (first["data"] as Record<string, string>)["a"] = "2";
    const updated = await call(fake, "PUT", `${paths.configmaps}/occ`, first);
    assert.equal(updated.code, 200);
    assert.notEqual((updated.body["metadata"] as Record<string, string>)["resourceVersion"], (created.body["metadata"] as Record<string, string>)["resourceVersion"]);
    const stale = structuredClone(created.body);
    (stale["data"] as Record<string, string>)["a"] = "3";
    const conflict = await call(fake, "PUT", `${paths.configmaps}/occ`, stale);
    assert.equal(conflict.code, 409);
    assert.equal(conflict.body["reason"], "Conflict");
    assert.match(String(conflict.body["message"]), /the object has been modified/);
  });

  it("refuses invalid objects with 422 Invalid naming the field", async () => {
    const noName = await call(fake, "POST", paths.configmaps, { apiVersion: "v1", kind: "ConfigMap", metadata: {} });
    assert.equal(noName.code, 422);
    assert.equal(noName.body["reason"], "Invalid");
    assert.match(String(noName.body["message"]), /metadata\.name: Required value/);
    const badName = await call(fake, "POST", paths.configmaps, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "Bad_Name" } });
    assert.equal(badName.code, 422);
    const noSelector = await call(fake, "POST", paths.deployments, { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "nosel" }, spec: {} });
    assert.equal(noSelector.code, 422);
    assert.match(String(noSelector.body["message"]), /spec\.selector: Required value/);
  });

  it("refuses a body of another kind or apiVersion than the URL, and malformed bodies, with 400", async () => {
    const wrongKind = await call(fake, "POST", paths.configmaps, { apiVersion: "v1", kind: "Secret", metadata: { name: "x" } });
    assert.equal(wrongKind.code, 400);
    const wrongVersion = await call(fake, "POST", paths.deployments, { ...deployment("v"), apiVersion: "apps/v1beta1" });
    assert.equal(wrongVersion.code, 400);
    const bare = await call(fake, "POST", paths.configmaps, { metadata: { name: "bare" } });
    assert.equal(bare.code, 201, "the URL supplies a missing kind and apiVersion");
    assert.equal(bare.body["kind"], "ConfigMap");
    const bareApply = await call(fake, "PATCH", `${paths.configmaps}/bare?fieldManager=ferry`, { metadata: { name: "bare" } }, "application/apply-patch+yaml");
    assert.equal(bareApply.code, 400, "an apply configuration must name its kind");
    const garbage = await call(fake, "POST", paths.configmaps, "{not json");
    assert.equal(garbage.code, 400);
    assert.equal(garbage.body["reason"], "BadRequest");
  });

  it("refuses changes to immutable fields with 422", async () => {
    await call(fake, "POST", paths.deployments, deployment("immut"));
    const patch = await call(fake, "PATCH", `${paths.deployments}/immut`, { spec: { selector: { matchLabels: { app: "other" } }, template: { metadata: { labels: { app: "other" } } } } }, "application/merge-patch+json");
    assert.equal(patch.code, 422);
    assert.match(String(patch.body["message"]), /spec\.selector: Invalid value: .*field is immutable/);
    const svc = await call(fake, "POST", paths.services, { apiVersion: "v1", kind: "Service", metadata: { name: "svc" }, spec: { ports: [{ port: 80 }] } });
    assert.match(String((svc.body["spec"] as Record<string, unknown>)["clusterIP"]), /^10\.96\./);
    const move = await call(fake, "PATCH", `${paths.services}/svc`, { spec: { clusterIP: "10.0.0.99" } }, "application/merge-patch+json");
    assert.equal(move.code, 422);
    assert.match(String(move.body["message"]), /spec\.clusterIP/);
  });

  it("answers 405 for verbs a path does not take", async () => {
    const post = await call(fake, "POST", `${paths.configmaps}/occ`, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "occ" } });
    assert.equal(post.code, 405);
    assert.equal(post.body["reason"], "MethodNotAllowed");
    const put = await call(fake, "PUT", paths.configmaps, {});
    assert.equal(put.code, 405);
  });

  it("deletes: a Status for most kinds, then 404", async () => {
    await call(fake, "POST", paths.configmaps, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "gone" } });
    const deleted = await call(fake, "DELETE", `${paths.configmaps}/gone?propagationPolicy=Background`);
    assert.equal(deleted.code, 200);
    assert.equal(deleted.body["status"], "Success");
    assert.equal((await call(fake, "GET", `${paths.configmaps}/gone`)).code, 404);
    assert.equal((await call(fake, "DELETE", `${paths.configmaps}/gone`)).code, 404);
  });

  it("deletes with preconditions and as a dry run", async () => {
    const cm = await call(fake, "POST", paths.configmaps, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "pre" } });
    const wrongUid = await call(fake, "DELETE", `${paths.configmaps}/pre`, { apiVersion: "v1", kind: "DeleteOptions", preconditions: { uid: "not-this-one" } });
    assert.equal(wrongUid.code, 409);
    const dry = await call(fake, "DELETE", `${paths.configmaps}/pre?dryRun=All`);
    assert.equal(dry.code, 200);
    assert.equal((await call(fake, "GET", `${paths.configmaps}/pre`)).code, 200);
    const uid = (cm.body["metadata"] as Record<string, unknown>)["uid"];
    const right = await call(fake, "DELETE", `${paths.configmaps}/pre`, { apiVersion: "v1", kind: "DeleteOptions", preconditions: { uid } });
    assert.equal(right.code, 200);
    assert.equal((await call(fake, "GET", `${paths.configmaps}/pre`)).code, 404);
    const badPolicy = await call(fake, "DELETE", `${paths.configmaps}/occ?propagationPolicy=Sideways`);
    assert.equal(badPolicy.code, 422);
  });

  it("dry runs validate and compute but store nothing", async () => {
    fake.stats.reset();
    const dry = await call(fake, "POST", `${paths.configmaps}?dryRun=All`, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "dry" } });
    assert.equal(dry.code, 201);
    assert.equal((await call(fake, "GET", `${paths.configmaps}/dry`)).code, 404);
    const invalid = await call(fake, "POST", `${paths.configmaps}?dryRun=All`, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "BAD" } });
    assert.equal(invalid.code, 422);
    assert.equal(fake.stats.writes, 0);
    assert.equal(fake.stats.calls, 3);
  });

  it("deleting a namespace deletes what is in it, waiting for finalizers", async () => {
    await call(fake, "POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "temp" } });
    await call(fake, "POST", "/api/v1/namespaces/temp/configmaps", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "inside" } });
    const held = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "held", finalizers: ["example.com/hold"] } };
    await call(fake, "POST", "/api/v1/namespaces/temp/configmaps", held);
    const deleted = await call(fake, "DELETE", "/api/v1/namespaces/temp");
    assert.equal(deleted.code, 200);
    assert.equal((deleted.body["status"] as Record<string, unknown>)["phase"], "Terminating");
    await fake.settled();
    assert.equal((await call(fake, "GET", "/api/v1/namespaces/temp/configmaps/inside")).code, 404);
    const holding = await call(fake, "GET", "/api/v1/namespaces/temp/configmaps/held");
    assert.ok((holding.body["metadata"] as Record<string, unknown>)["deletionTimestamp"]);
    const refused = await call(fake, "POST", "/api/v1/namespaces/temp/configmaps", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "late" } });
    assert.equal(refused.code, 403);
    assert.match(String(refused.body["message"]), /because it is being terminated/);
    await call(fake, "PATCH", "/api/v1/namespaces/temp/configmaps/held", { metadata: { finalizers: null } }, "application/merge-patch+json");
    await fake.settled();
    assert.equal((await call(fake, "GET", "/api/v1/namespaces/temp/configmaps/held")).code, 404);
    assert.equal((await call(fake, "GET", "/api/v1/namespaces/temp")).code, 404);
  });
});
