import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { FakeKube } from "./index.js";
import { startFakeKube } from "./index.js";
import { apply, call, deployment, paths } from "./test-http.js";
import type { JsonObject } from "./types.js";

function managers(obj: JsonObject): { manager: string; operation: string; fieldsV1: JsonObject; subresource?: string }[] {
  return (obj["metadata"] as { managedFields: { manager: string; operation: string; fieldsV1: JsonObject }[] }).managedFields;
}

function spec(obj: JsonObject | undefined): Record<string, unknown> {
  return (obj?.["spec"] ?? {}) as Record<string, unknown>;
}

describe("fake kube-apiserver: server-side apply", () => {
  let fake: FakeKube;
  before(async () => {
    fake = await startFakeKube();
  });
  after(() => fake.close());

  it("creates with 201, records the applier's fields, and answers 200 for the next apply", async () => {
    const first = await apply(fake, `${paths.deployments}/ssa-create`, deployment("ssa-create", "nginx:1", 2), "ferry");
    assert.equal(first.code, 201);
    const entry = managers(first.body).find((m) => m.manager === "ferry");
    assert.equal(entry?.operation, "Apply");
    assert.deepEqual(entry?.fieldsV1, {
      "f:spec": {
        "f:replicas": {},
        "f:selector": { "f:matchLabels": { "f:app": {} } },
        "f:template": {
          "f:metadata": { "f:labels": { "f:app": {} } },
          "f:spec": { "f:containers": { 'k:{"name":"web"}': { ".": {}, "f:image": {}, "f:name": {} } } },
        },
      },
    });
    const second = await apply(fake, `${paths.deployments}/ssa-create`, deployment("ssa-create", "nginx:2", 2), "ferry");
    assert.equal(second.code, 200);
    assert.equal(spec(second.body)["template"] && JSON.stringify(second.body).includes("nginx:2"), true);
  });

  it("writes nothing when the applied configuration changes nothing", async () => {
    const doc = deployment("ssa-noop", "nginx:1", 1);
    await apply(fake, `${paths.deployments}/ssa-noop`, doc, "ferry");
    await fake.settled();
    const rv = (fake.get("apps/v1", "Deployment", "default", "ssa-noop")?.["metadata"] as Record<string, string>)["resourceVersion"];
    fake.stats.reset();
    const again = await apply(fake, `${paths.deployments}/ssa-noop`, doc, "ferry");
    assert.equal(again.code, 200);
    assert.equal((again.body["metadata"] as Record<string, string>)["resourceVersion"], rv);
    assert.equal(fake.stats.writes, 0);
    assert.equal(fake.stats.calls, 1);
  });

  it("conflicts with another manager's different value (409 naming manager and field) unless forced", async () => {
    await apply(fake, `${paths.deployments}/ssa-conflict`, deployment("ssa-conflict", "nginx:1", 2), "ferry");
    fake.edit("apps/v1", "Deployment", "default", "ssa-conflict", (d) => {
      (d["spec"] as JsonObject)["replicas"] = 5;
    });
    const refused = await apply(fake, `${paths.deployments}/ssa-conflict`, deployment("ssa-conflict", "nginx:1", 2), "ferry");
    assert.equal(refused.code, 409);
    assert.equal(refused.body["reason"], "Conflict");
    assert.equal(refused.body["message"], 'Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas');
    const causes = (refused.body["details"] as { causes: { reason: string; field: string }[] }).causes;
    assert.deepEqual(causes.map((c) => [c.reason, c.field]), [["FieldManagerConflict", ".spec.replicas"]]);
    assert.equal(spec(fake.get("apps/v1", "Deployment", "default", "ssa-conflict"))["replicas"], 5);

    const forced = await apply(fake, `${paths.deployments}/ssa-conflict`, deployment("ssa-conflict", "nginx:1", 2), "ferry", "&force=true");
    assert.equal(forced.code, 200);
    assert.equal(spec(forced.body)["replicas"], 2);
    assert.ok(!managers(forced.body).some((m) => m.manager === "kubectl-edit"), "ownership moved to the forcing manager");
  });

  it("shares ownership when another manager applies the same value, and lists several conflicts per manager", async () => {
    await apply(fake, `${paths.deployments}/ssa-share`, deployment("ssa-share", "nginx:1", 2), "ferry");
    const same = await apply(fake, `${paths.deployments}/ssa-share`, { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "ssa-share" }, spec: { replicas: 2 } }, "other");
    assert.equal(same.code, 200);
    const both = managers(same.body).filter((m) => JSON.stringify(m.fieldsV1["f:spec"] ?? {}).includes("f:replicas"));
    assert.deepEqual(both.map((m) => m.manager).sort(), ["ferry", "other"]);
    const changed = deployment("ssa-share", "nginx:9", 3);
    const refused = await apply(fake, `${paths.deployments}/ssa-share`, changed, "third");
    assert.equal(refused.code, 409);
    assert.match(String(refused.body["message"]), /^Apply failed with 3 conflicts: conflicts with "ferry" using apps\/v1:\n- \.spec\.replicas\n- \.spec\.template\.spec\.containers\[name="web"\]\.image\nconflicts with "other" using apps\/v1:\n- \.spec\.replicas$/);
  });

  it("removes fields the manager stops applying, unless another manager owns them", async () => {
    const withLabels = (labels: Record<string, string>): JsonObject => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "ssa-drop", labels }, data: { a: "1" } });
    await apply(fake, `${paths.configmaps}/ssa-drop`, withLabels({ keep: "yes", drop: "yes", shared: "yes" }), "ferry");
    await apply(fake, `${paths.configmaps}/ssa-drop`, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "ssa-drop", labels: { shared: "yes" } } }, "other");
    const result = await apply(fake, `${paths.configmaps}/ssa-drop`, withLabels({ keep: "yes" }), "ferry");
    assert.deepEqual((result.body["metadata"] as JsonObject)["labels"], { keep: "yes", shared: "yes" });
    const noData = await apply(fake, `${paths.configmaps}/ssa-drop`, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "ssa-drop", labels: { keep: "yes" } } }, "ferry");
    assert.equal(noData.body["data"], undefined);
  });

  it("merges containers by name and ports by containerPort and protocol, so another manager's sidecar stays", async () => {
    const base = deployment("ssa-lists");
    await apply(fake, `${paths.deployments}/ssa-lists`, base, "ferry");
    const sidecar = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "ssa-lists" },
      spec: { template: { spec: { containers: [{ name: "proxy", image: "envoy:1", ports: [{ containerPort: 9901 }] }] } } },
    };
    await apply(fake, `${paths.deployments}/ssa-lists`, sidecar, "mesh");
    const withPort = deployment("ssa-lists", "nginx:2");
    ((spec(withPort)["template"] as JsonObject)["spec"] as { containers: JsonObject[] }).containers[0]!["ports"] = [{ containerPort: 80 }];
    const result = await apply(fake, `${paths.deployments}/ssa-lists`, withPort, "ferry");
    const containers = (((spec(result.body)["template"] as JsonObject)["spec"] as JsonObject)["containers"] as JsonObject[]).map((c) => [c["name"], c["image"], c["ports"]]);
    assert.deepEqual(containers, [
      ["web", "nginx:2", [{ containerPort: 80, protocol: "TCP" }]],
      ["proxy", "envoy:1", [{ containerPort: 9901, protocol: "TCP" }]],
    ]);
    const ferry = managers(result.body).find((m) => m.manager === "ferry");
    assert.ok(JSON.stringify(ferry?.fieldsV1).includes('k:{\\"containerPort\\":80,\\"protocol\\":\\"TCP\\"}'));
  });

  it("removes a container and an env var the manager stops applying", async () => {
    const twoContainers = deployment("ssa-shrink");
    const pod = ((twoContainers["spec"] as JsonObject)["template"] as JsonObject)["spec"] as { containers: JsonObject[] };
    pod.containers[0]!["env"] = [{ name: "A", value: "1" }, { name: "B", value: "2" }];
    pod.containers.push({ name: "worker", image: "worker:1" });
    await apply(fake, `${paths.deployments}/ssa-shrink`, twoContainers, "ferry");
    const one = deployment("ssa-shrink");
    (((one["spec"] as JsonObject)["template"] as JsonObject)["spec"] as { containers: JsonObject[] }).containers[0]!["env"] = [{ name: "B", value: "2" }];
    const result = await apply(fake, `${paths.deployments}/ssa-shrink`, one, "ferry");
    const containers = (((spec(result.body)["template"] as JsonObject)["spec"] as JsonObject)["containers"] as JsonObject[]);
    assert.deepEqual(containers.map((c) => c["name"]), ["web"]);
    assert.deepEqual(containers[0]?.["env"], [{ name: "B", value: "2" }]);
  });

  it("merges lists of custom resources as their CRD's schema declares (x-kubernetes-list-type)", async () => {
    const listSchema = (listType: JsonObject): JsonObject => ({ type: "array", items: { type: "object", properties: { name: { type: "string" }, port: { type: "integer" } } }, ...listType });
    await call(fake, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: "gateways.example.com" },
      spec: {
        group: "example.com",
        scope: "Namespaced",
        names: { plural: "gateways", kind: "Gateway" },
        versions: [
          {
            name: "v1",
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: "object",
                properties: {
                  spec: {
                    type: "object",
                    properties: {
                      listeners: listSchema({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"] }),
                      addresses: listSchema({}),
                    },
                  },
                },
              },
            },
          },
        ],
      },
    });
    await fake.settled();
    const gateway = (listeners: JsonObject[], addresses: JsonObject[]): JsonObject => ({ apiVersion: "example.com/v1", kind: "Gateway", metadata: { name: "gw" }, spec: { listeners, addresses } });
    const path = "/apis/example.com/v1/namespaces/default/gateways/gw";
    assert.equal((await apply(fake, path, gateway([{ name: "http", port: 80 }], [{ name: "a" }]), "ferry")).code, 201);
    const merged = await apply(fake, path, { apiVersion: "example.com/v1", kind: "Gateway", metadata: { name: "gw" }, spec: { listeners: [{ name: "https", port: 443 }] } }, "tls");
    assert.deepEqual(spec(merged.body)["listeners"], [{ name: "http", port: 80 }, { name: "https", port: 443 }]);
    const atomic = await apply(fake, path, { apiVersion: "example.com/v1", kind: "Gateway", metadata: { name: "gw" }, spec: { addresses: [{ name: "b" }] } }, "tls");
    assert.equal(atomic.code, 409, "a list without a list type is atomic: another value conflicts");
    assert.match(String(atomic.body["message"]), /\.spec\.addresses$/);
  });

  it("dry-run apply returns the merged object and stores nothing", async () => {
    await apply(fake, `${paths.deployments}/ssa-dry`, deployment("ssa-dry", "nginx:1"), "ferry");
    const before = fake.get("apps/v1", "Deployment", "default", "ssa-dry");
    const dry = await apply(fake, `${paths.deployments}/ssa-dry`, deployment("ssa-dry", "nginx:2"), "ferry", "&dryRun=All");
    assert.equal(dry.code, 200);
    assert.ok(JSON.stringify(dry.body).includes("nginx:2"));
    assert.deepEqual(fake.get("apps/v1", "Deployment", "default", "ssa-dry"), before);
  });

  it("needs a fieldManager, refuses a name other than the URL's, and bumps generation only for spec changes", async () => {
    const noManager = await call(fake, "PATCH", `${paths.configmaps}/x`, "{}", "application/apply-patch+yaml");
    assert.equal(noManager.code, 400);
    const otherName = await apply(fake, `${paths.configmaps}/x`, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "y" } }, "ferry");
    assert.equal(otherName.code, 400);
    const created = await apply(fake, `${paths.deployments}/ssa-gen`, deployment("ssa-gen"), "ferry");
    assert.equal((created.body["metadata"] as JsonObject)["generation"], 1);
    const labelled = deployment("ssa-gen");
    (labelled["metadata"] as JsonObject)["labels"] = { team: "a" };
    const relabelled = await apply(fake, `${paths.deployments}/ssa-gen`, labelled, "ferry");
    assert.equal((relabelled.body["metadata"] as JsonObject)["generation"], 1);
    const rescaled = await apply(fake, `${paths.deployments}/ssa-gen`, { ...labelled, spec: { ...spec(labelled), replicas: 4 } }, "ferry");
    assert.equal((rescaled.body["metadata"] as JsonObject)["generation"], 2);
  });

  it("refuses an immutable change made by apply with 422", async () => {
    const job = (image: string): JsonObject => ({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "migrate" },
      spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "m", image }] } } },
    });
    assert.equal((await apply(fake, `${paths.jobs}/migrate`, job("tool:1"), "ferry")).code, 201);
    const changed = await apply(fake, `${paths.jobs}/migrate`, job("tool:2"), "ferry");
    assert.equal(changed.code, 422);
    assert.match(String(changed.body["message"]), /^Job\.batch "migrate" is invalid: spec\.template: Invalid value: .*field is immutable/);
  });
});
