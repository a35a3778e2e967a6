import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { FakeKube } from "./index.js";
import { startFakeKube } from "./index.js";
import { apply, call, deployment, paths } from "./test-http.js";
import type { JsonObject } from "./types.js";

function withTypo(name: string): JsonObject {
  const d = deployment(name);
  (d["spec"] as JsonObject)["replica"] = 3;
  return d;
}

describe("fake kube-apiserver: unknown fields, defaults and counters", () => {
  let fake: FakeKube;
  before(async () => {
    fake = await startFakeKube({ simulateControllers: false });
  });
  after(() => fake.close());

  it("drops unknown fields with a Warning header by default, as typed decoding does", async () => {
    const response = await fetch(`${fake.url}${paths.deployments}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(withTypo("typo")) });
    assert.equal(response.status, 201);
    assert.equal(response.headers.get("warning"), '299 - "unknown field \\"spec.replica\\""');
    const stored = fake.get("apps/v1", "Deployment", "default", "typo");
    assert.equal((stored?.["spec"] as JsonObject)["replica"], undefined);
  });

  it("refuses unknown fields with 400 under fieldValidation=Strict, for writes and for apply", async () => {
    const strict = await call(fake, "POST", `${paths.deployments}?fieldValidation=Strict`, withTypo("strict"));
    assert.equal(strict.code, 400);
    assert.equal(strict.body["message"], 'strict decoding error: unknown field "spec.replica"');
    const container = deployment("strict2");
    ((((container["spec"] as JsonObject)["template"] as JsonObject)["spec"] as JsonObject)["containers"] as JsonObject[])[0]!["imagee"] = "x";
    const applied = await apply(fake, `${paths.deployments}/strict2`, container, "ferry", "&fieldValidation=Strict");
    assert.equal(applied.code, 400);
    assert.match(String(applied.body["message"]), /\.spec\.template\.spec\.containers\[0\]\.imagee: field not declared in schema/);
    assert.equal(fake.get("apps/v1", "Deployment", "default", "strict2"), undefined);
    const bad = await call(fake, "POST", `${paths.configmaps}?fieldValidation=Loose`, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } });
    assert.equal(bad.code, 400);
  });

  it("refuses values of the wrong JSON type with the typed decoder's 400", async () => {
    const numberData = await call(fake, "POST", paths.configmaps, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "n" }, data: { port: 8080 } });
    assert.equal(numberData.code, 400);
    assert.equal(
      numberData.body["message"],
      'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ConfigMap.data of type string',
    );
    const textReplicas = await apply(fake, `${paths.deployments}/text`, { ...deployment("text"), spec: { ...(deployment("text")["spec"] as JsonObject), replicas: "two" } }, "ferry");
    assert.equal(textReplicas.code, 400);
    const badSecret = await call(fake, "POST", "/api/v1/namespaces/default/secrets", { apiVersion: "v1", kind: "Secret", metadata: { name: "b64" }, data: { k: "not base64!" } });
    assert.equal(badSecret.code, 400);
    assert.match(String(badSecret.body["message"]), /illegal base64 data/);
  });

  it("prunes custom resources by their CRD's structural schema", async () => {
    await call(fake, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: "gadgets.example.com" },
      spec: {
        group: "example.com",
        scope: "Namespaced",
        names: { plural: "gadgets", kind: "Gadget" },
        versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", properties: { spec: { type: "object", properties: { size: { type: "integer" } } } } } } }],
      },
    });
    fake.edit("apiextensions.k8s.io/v1", "CustomResourceDefinition", undefined, "gadgets.example.com", (c) => {
      c["status"] = { conditions: [{ type: "Established", status: "True" }] };
    });
    const made = await call(fake, "POST", "/apis/example.com/v1/namespaces/default/gadgets", { apiVersion: "example.com/v1", kind: "Gadget", metadata: { name: "g" }, spec: { size: 2, colour: "red" } });
    assert.equal(made.code, 201);
    assert.deepEqual(made.body["spec"], { size: 2 });
  });

  it("fills in the real server's defaults: Secret stringData becomes data, Services get a ClusterIP, containers a pull policy", async () => {
    const secret = await call(fake, "POST", "/api/v1/namespaces/default/secrets", { apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, stringData: { password: "hunter2" } });
    assert.deepEqual(secret.body["data"], { password: Buffer.from("hunter2").toString("base64") });
    assert.equal(secret.body["stringData"], undefined);
    assert.equal(secret.body["type"], "Opaque");
    const svc = await call(fake, "POST", paths.services, { apiVersion: "v1", kind: "Service", metadata: { name: "svc" }, spec: { selector: { app: "x" }, ports: [{ port: 80 }] } });
    const spec = svc.body["spec"] as JsonObject;
    assert.equal(spec["type"], "ClusterIP");
    assert.deepEqual(spec["ports"], [{ port: 80, protocol: "TCP", targetPort: 80 }]);
    const d = await call(fake, "POST", paths.deployments, deployment("pull", "nginx"));
    const c = ((((d.body["spec"] as JsonObject)["template"] as JsonObject)["spec"] as JsonObject)["containers"] as JsonObject[])[0];
    assert.equal(c?.["imagePullPolicy"], "Always");
    const named = await call(fake, "POST", paths.configmaps, { apiVersion: "v1", kind: "ConfigMap", metadata: { generateName: "gen-" } });
    assert.match(String((named.body["metadata"] as JsonObject)["name"]), /^gen-[0-9a-f]{5}$/);
  });

  it("counts calls by verb and writes, leaving out no-ops and dry runs", async () => {
    fake.stats.reset();
    const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "counted" }, data: { a: "1" } };
    await apply(fake, `${paths.configmaps}/counted`, cm, "ferry");
    await apply(fake, `${paths.configmaps}/counted`, cm, "ferry");
    await apply(fake, `${paths.configmaps}/counted`, { ...cm, data: { a: "2" } }, "ferry", "&dryRun=All");
    await call(fake, "GET", `${paths.configmaps}/counted`);
    await call(fake, "GET", paths.configmaps);
    await call(fake, "GET", "/api/v1");
    await call(fake, "DELETE", `${paths.configmaps}/counted`);
    assert.equal(fake.stats.calls, 7);
    assert.equal(fake.stats.writes, 2);
    assert.deepEqual(fake.stats.byVerb, { patch: 3, get: 1, list: 1, discovery: 1, delete: 1 });
  });

  it("serves the OpenAPI v3 index kubectl reads to learn that the server validates fields", async () => {
    const index = await call(fake, "GET", "/openapi/v3");
    const apps = (index.body["paths"] as Record<string, { serverRelativeURL: string }>)["apis/apps/v1"];
    assert.ok(apps);
    const doc = await call(fake, "GET", apps.serverRelativeURL);
    const patch = ((doc.body["paths"] as JsonObject)["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"] as JsonObject)["patch"] as JsonObject;
    assert.deepEqual(patch["x-kubernetes-group-version-kind"], { group: "apps", version: "v1", kind: "Deployment" });
    assert.ok((patch["parameters"] as JsonObject[]).some((p) => p["name"] === "fieldValidation"));
  });
});
