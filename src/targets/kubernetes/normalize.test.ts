import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { JsonObject } from "../../core/json.js";
import { makeObject } from "../../../test/support/target-testing.js";
import { ignoredFields } from "./ignore-rules.js";
import { ownerOf } from "./managed-fields.js";
import { comparableOf, removePointer, setPointer, valueAtPointer } from "./normalize.js";
import { withDefaultNamespace } from "./scope.js";

describe("comparableOf", () => {
  it("drops status, managed fields, server metadata and controller annotations, and applies ignore rules", () => {
    const live = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: {
        name: "web",
        namespace: "team",
        uid: "1",
        resourceVersion: "42",
        generation: 3,
        creationTimestamp: "2026-01-01T00:00:00Z",
        managedFields: [{ manager: "ferry" }],
        labels: { app: "web" },
        annotations: { "deployment.kubernetes.io/revision": "2" },
      },
      spec: { replicas: 5, template: { spec: { containers: [{ name: "web", image: "web:1" }] } } },
      status: { readyReplicas: 5 },
    };
    assert.deepEqual(comparableOf(live, ["/spec/replicas"]), {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { labels: { app: "web" }, name: "web", namespace: "team" },
      spec: { template: { spec: { containers: [{ image: "web:1", name: "web" }] } } },
    });
  });

  it("removePointer handles escaped segments, list items and absent fields", () => {
    const value = { metadata: { annotations: { "a/b": "1", c: "2" } }, list: [1, 2, 3] };
    assert.deepEqual(removePointer(value, "/metadata/annotations/a~1b"), { metadata: { annotations: { c: "2" } }, list: [1, 2, 3] });
    assert.deepEqual(removePointer(value, "/list/1"), { metadata: { annotations: { "a/b": "1", c: "2" } }, list: [1, 3] });
    assert.deepEqual(removePointer(value, "/spec/replicas"), value);
  });
});

describe("ignoredFields", () => {
  it("matches rules by group, kind, name and namespace, names the rule, and takes Git's value", () => {
    const deployment = makeObject({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "team", labels: { owner: "a/b" } }, spec: { replicas: 2 } });
    const rules = [
      { kind: "Service", jsonPointers: ["/spec/clusterIP"] },
      { group: "apps", kind: "Deployment", jsonPointers: ["/spec/replicas", "/spec/paused"], source: "spec.kubernetes.ignoreDifferences[1]" },
      { kind: "Deployment", name: "other", jsonPointers: ["/spec/paused"] },
      { namespace: "team", jsonPointers: ["/metadata/labels/owner"] },
    ];
    assert.deepEqual(ignoredFields(deployment, rules), [
      { pointer: "/spec/replicas", rule: "spec.kubernetes.ignoreDifferences[1] (group apps, kind Deployment, /spec/replicas)", desired: 2 },
      { pointer: "/spec/paused", rule: "spec.kubernetes.ignoreDifferences[1] (group apps, kind Deployment, /spec/paused)" },
      { pointer: "/metadata/labels/owner", rule: "ignoreDifferences[3] (namespace team, /metadata/labels/owner)", desired: "a/b" },
    ]);
  });

  it("setPointer sets a field, creating mappings on the way, and leaves lists without that item alone", () => {
    const value = { spec: { template: {} }, list: [{ x: 1 }] };
    assert.deepEqual(setPointer(value, "/spec/replicas", 3), { spec: { template: {}, replicas: 3 }, list: [{ x: 1 }] });
    assert.deepEqual(setPointer(value, "/metadata/annotations/a~1b", "1"), { ...value, metadata: { annotations: { "a/b": "1" } } });
    assert.deepEqual(setPointer(value, "/list/0/x", 2), { spec: { template: {} }, list: [{ x: 2 }] });
    assert.deepEqual(setPointer(value, "/list/1/x", 2), value);
    assert.deepEqual(value, { spec: { template: {} }, list: [{ x: 1 }] }, "the input is not changed");
  });

  it("valueAtPointer reads escaped segments and list items, and nothing past the end", () => {
    const value = { metadata: { annotations: { "a/b": "1" } }, list: [{ x: 1 }, { x: 2 }] };
    assert.equal(valueAtPointer(value, "/metadata/annotations/a~1b"), "1");
    assert.equal(valueAtPointer(value, "/list/1/x"), 2);
    assert.equal(valueAtPointer(value, "/list/2/x"), undefined);
    assert.equal(valueAtPointer(value, "/list/x"), undefined);
    assert.equal(valueAtPointer(value, "/spec/replicas"), undefined);
    assert.deepEqual(valueAtPointer(value, ""), value);
  });
});

describe("withDefaultNamespace", () => {
  it("puts the application's namespace on namespaced objects only, and keys them by it", () => {
    const objects = [
      makeObject({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" } }),
      makeObject({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "d", namespace: "other" } }),
      makeObject({ apiVersion: "v1", kind: "Namespace", metadata: { name: "team" } }),
      makeObject({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "r" } }),
      makeObject({
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: { name: "widgets.example.com" },
        spec: { group: "example.com", scope: "Cluster", names: { kind: "Widget", plural: "widgets" } },
      }),
      makeObject({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } }),
      makeObject({ apiVersion: "example.com/v1", kind: "Gadget", metadata: { name: "g" } }),
    ];
    assert.deepEqual(
      withDefaultNamespace(objects, "team").map((o) => o.key),
      [
        "/ConfigMap/team/c",
        "/ConfigMap/other/d",
        "/Namespace//team",
        "rbac.authorization.k8s.io/ClusterRole//r",
        "apiextensions.k8s.io/CustomResourceDefinition//widgets.example.com",
        "example.com/Widget//w",
        "example.com/Gadget/team/g",
      ],
    );
    assert.equal(withDefaultNamespace(objects)[0]?.manifest.metadata.namespace, "default");
  });
});

describe("ownerOf", () => {
  it("names the manager whose managed fields hold the differing field, skipping Ferry", () => {
    const live: JsonObject = {
      metadata: {
        name: "web",
        managedFields: [
          { manager: "ferry", operation: "Apply", fieldsV1: { "f:data": { "f:greeting": {} } } },
          { manager: "kubectl-edit", operation: "Update", fieldsV1: { "f:data": { "f:greeting": {} } } },
          { manager: "hpa", operation: "Update", fieldsV1: { "f:spec": { "f:replicas": {} } } },
        ],
      },
    };
    assert.deepEqual(ownerOf(live, "/data/greeting", ["ferry"]), { manager: "kubectl-edit", operation: "Update" });
    assert.deepEqual(ownerOf(live, "/spec/replicas", ["ferry"]), { manager: "hpa", operation: "Update" });
    assert.equal(ownerOf(live, "/spec/paused", ["ferry"]), undefined);
  });
});
