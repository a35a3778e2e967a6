import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { JsonObject } from "../../../core/json.js";
import { assessKubernetesHealth, kubernetesObjectName, worstHealth } from "./kubernetes-health.js";

const deployment = (name: string, available: number, namespace?: string): JsonObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, generation: 1, ...(namespace ? { namespace } : {}) },
  spec: { replicas: 3 },
  status: { observedGeneration: 1, replicas: 3, updatedReplicas: 3, availableReplicas: available },
});
const configMap: JsonObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings" } };
const failedJob: JsonObject = {
  apiVersion: "batch/v1",
  kind: "Job",
  metadata: { name: "migrate", namespace: "shop" },
  status: { conditions: [{ type: "Failed", status: "True", message: "backoff limit reached" }] },
};

describe("worstHealth", () => {
  it("names the worst object and says why", () => {
    assert.deepStrictEqual(worstHealth([configMap, deployment("web", 1), deployment("api", 3)]), {
      status: "Progressing",
      message: "Deployment/web: 1 of 3 replicas available",
    });
  });

  it("orders Degraded after Progressing, and names the namespace when there is one", () => {
    assert.deepStrictEqual(worstHealth([deployment("web", 1), failedJob]), { status: "Degraded", message: "Job/shop/migrate: job failed: backoff limit reached" });
  });

  it("is Healthy for an empty set and when everything is healthy", () => {
    assert.equal(worstHealth([]).status, "Healthy");
    assert.deepStrictEqual(worstHealth([configMap, deployment("web", 3)]), { status: "Healthy", message: "all objects are healthy" });
  });

  it("keeps the first of equally bad objects", () => {
    assert.equal(worstHealth([deployment("a", 0), deployment("b", 1)]).message, "Deployment/a: 0 of 3 replicas available");
  });
});

describe("assessKubernetesHealth on odd input", () => {
  it("reads fields of the wrong type as absent instead of throwing", () => {
    const odd: JsonObject = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "x" }, spec: { replicas: "3" }, status: { conditions: "no", updatedReplicas: [] } };
    assert.deepStrictEqual(assessKubernetesHealth(odd), { status: "Progressing", message: "rollout: 0 of 1 replica updated" });
  });

  it("names an object without a name or kind", () => {
    assert.equal(kubernetesObjectName({}), "Object/(unnamed)");
  });
});
