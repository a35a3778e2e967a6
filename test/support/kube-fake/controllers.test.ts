import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { FakeKube } from "./index.js";
import { startFakeKube } from "./index.js";
import { apply, call, deployment, paths } from "./test-http.js";
import type { JsonObject } from "./types.js";

async function withFake(options: { simulateControllers: boolean }, body: (fake: FakeKube) => Promise<void>): Promise<void> {
  const fake = await startFakeKube(options);
  try {
    await body(fake);
  } finally {
    await fake.close();
  }
}

function status(obj: JsonObject | undefined): JsonObject {
  return (obj?.["status"] ?? {}) as JsonObject;
}

function conditionTypes(obj: JsonObject | undefined): string[] {
  return ((status(obj)["conditions"] ?? []) as JsonObject[]).filter((c) => c["status"] === "True").map((c) => String(c["type"]));
}

const crd = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "widgets.example.com" },
  spec: {
    group: "example.com",
    scope: "Namespaced",
    names: { plural: "widgets", singular: "widget", kind: "Widget", shortNames: ["wd"] },
    versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } }, subresources: { status: {} } }],
  },
};

describe("fake kube-apiserver: simulated controllers", () => {
  it("rolls a Deployment out after a spec change: status follows with observedGeneration", () =>
    withFake({ simulateControllers: true }, async (fake) => {
      await apply(fake, `${paths.deployments}/roll`, deployment("roll", "nginx:1", 3), "ferry");
      await fake.settled();
      let d = fake.get("apps/v1", "Deployment", "default", "roll");
      assert.equal(status(d)["observedGeneration"], 1);
      assert.equal(status(d)["readyReplicas"], 3);
      assert.equal(status(d)["availableReplicas"], 3);
      assert.deepEqual(conditionTypes(d), ["Available", "Progressing"]);
      const changed = await apply(fake, `${paths.deployments}/roll`, deployment("roll", "nginx:2", 3), "ferry");
      assert.equal((changed.body["metadata"] as JsonObject)["generation"], 2);
      assert.equal(status(changed.body)["observedGeneration"], 1, "the write itself leaves status to the controller");
      await fake.settled();
      d = fake.get("apps/v1", "Deployment", "default", "roll");
      assert.equal((d?.["metadata"] as JsonObject)["generation"], 2);
      assert.equal(status(d)["observedGeneration"], 2);
    }));

  it("completes Jobs, binds PVCs and runs Pods", () =>
    withFake({ simulateControllers: true }, async (fake) => {
      await call(fake, "POST", paths.jobs, { apiVersion: "batch/v1", kind: "Job", metadata: { name: "once" }, spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "m", image: "tool:1" }] } } } });
      await call(fake, "POST", "/api/v1/namespaces/default/persistentvolumeclaims", {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name: "data" },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
      });
      await call(fake, "POST", "/api/v1/namespaces/default/pods", { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "busybox:1" }] } });
      await fake.settled();
      const job = fake.get("batch/v1", "Job", "default", "once");
      assert.ok(conditionTypes(job).includes("Complete"));
      assert.equal(status(job)["succeeded"], 1);
      const labels = ((((job?.["spec"] as JsonObject)["template"] as JsonObject)["metadata"] as JsonObject)["labels"] ?? {}) as JsonObject;
      assert.equal(labels["batch.kubernetes.io/job-name"], "once", "the job controller's labels are defaulted into the template");
      const pvc = fake.get("v1", "PersistentVolumeClaim", "default", "data");
      assert.equal(status(pvc)["phase"], "Bound");
      assert.match(String((pvc?.["spec"] as JsonObject)["volumeName"]), /^pvc-/);
      assert.equal(status(fake.get("v1", "Pod", "default", "p"))["phase"], "Running");
    }));

  it("without controllers, a Deployment stays unobserved until a test edits its status", () =>
    withFake({ simulateControllers: false }, async (fake) => {
      await apply(fake, `${paths.deployments}/slow`, deployment("slow", "nginx:1", 2), "ferry");
      await fake.settled();
      assert.deepEqual(status(fake.get("apps/v1", "Deployment", "default", "slow")), {});
      fake.edit("apps/v1", "Deployment", "default", "slow", (d) => {
        d["status"] = { observedGeneration: 1, replicas: 2, updatedReplicas: 1, readyReplicas: 1 };
      }, "test");
      const d = fake.get("apps/v1", "Deployment", "default", "slow");
      assert.equal(status(d)["updatedReplicas"], 1);
      const owners = ((d?.["metadata"] as JsonObject)["managedFields"] as JsonObject[]).map((m) => [m["manager"], m["subresource"] ?? ""]);
      assert.deepEqual(owners, [["ferry", ""], ["test", "status"]]);
    }));

  it("a CRD becomes Established and its resource appears in discovery and is served", () =>
    withFake({ simulateControllers: true }, async (fake) => {
      const created = await call(fake, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd);
      assert.equal(created.code, 201);
      await fake.settled();
      assert.ok(conditionTypes(fake.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", undefined, "widgets.example.com")).includes("Established"));
      const discovery = await call(fake, "GET", "/apis/example.com/v1");
      const resources = discovery.body["resources"] as JsonObject[];
      assert.deepEqual(resources.map((r) => r["name"]), ["widgets", "widgets/status"]);
      assert.deepEqual(resources[0]?.["shortNames"], ["wd"]);
      const widget = { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w1" }, spec: { size: 3 } };
      const made = await apply(fake, "/apis/example.com/v1/namespaces/default/widgets/w1", widget, "ferry");
      assert.equal(made.code, 201);
      const list = await call(fake, "GET", "/apis/example.com/v1/namespaces/default/widgets");
      assert.equal(list.body["kind"], "WidgetList");
      assert.equal((list.body["items"] as JsonObject[])[0]?.["kind"], "Widget");
      const smp = await call(fake, "PATCH", "/apis/example.com/v1/namespaces/default/widgets/w1", "{}", "application/strategic-merge-patch+json");
      assert.equal(smp.code, 415);
      await call(fake, "DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com");
      await fake.settled();
      assert.equal((await call(fake, "GET", "/apis/example.com/v1/namespaces/default/widgets/w1")).code, 404);
      assert.equal((await call(fake, "GET", "/apis/example.com/v1")).code, 404);
    }));

  it("without controllers, a CRD is not Established and its resource is not served", () =>
    withFake({ simulateControllers: false }, async (fake) => {
      await call(fake, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd);
      await fake.settled();
      assert.equal((await call(fake, "GET", "/apis/example.com/v1/namespaces/default/widgets")).code, 404);
      fake.edit("apiextensions.k8s.io/v1", "CustomResourceDefinition", undefined, "widgets.example.com", (c) => {
        c["status"] = { conditions: [{ type: "Established", status: "True" }] };
      });
      assert.equal((await call(fake, "GET", "/apis/example.com/v1/namespaces/default/widgets")).code, 200);
    }));
});
