import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ResourceKey } from "../core/ids.js";
import { diffObjects } from "../diff/diff-objects.js";
import { makeObject } from "../../test/support/target-testing.js";
import { isEmptyPlan, planSync } from "./plan-sync.js";
import { PLANNING_ORDER } from "../targets/registry.js";

const host = (kind: string, name: string, wave?: number) =>
  makeObject({
    apiVersion: "host.ferry.dev/v1",
    kind,
    metadata: { name, ...(wave !== undefined ? { annotations: { "ferry.dev/wave": String(wave) } } : {}) },
    spec: {},
  });

describe("planSync", () => {
  it("orders by wave, then kind (files, jobs, the rest), then key; prunes in reverse", () => {
    const objects = [host("Service", "web"), host("Job", "migrate"), host("File", "config"), host("Service", "smoke-after", 1), host("Service", "db", -1)];
    const diffs = diffObjects(
      objects.map((object) => ({ object, state: {} })),
      new Map(),
      ["host.ferry.dev/File//old" as ResourceKey, "host.ferry.dev/Service//old" as ResourceKey],
    );
    const live = diffs.map((d) => (d.type === "orphan" ? { ...d, live: { key: d.key, state: {} } } : d));
    const plan = planSync(live, { prune: true, kindOrder: PLANNING_ORDER });
    assert.deepEqual(
      plan.waves.map((w) => [w.wave, w.actions.map((a) => a.key)]),
      [
        [-1, ["host.ferry.dev/Service//db"]],
        [0, ["host.ferry.dev/File//config", "host.ferry.dev/Job//migrate", "host.ferry.dev/Service//web"]],
        [1, ["host.ferry.dev/Service//smoke-after"]],
      ],
    );
    assert.deepEqual(plan.prune.map((p) => p.key), ["host.ferry.dev/Service//old", "host.ferry.dev/File//old"]);
  });

  it("keeps orphans when pruning is off or the object opted out, and never prunes what is already gone", () => {
    const orphan = "host.ferry.dev/File//kept" as ResourceKey;
    const optedOut = "host.ferry.dev/File//pinned" as ResourceKey;
    const gone = "host.ferry.dev/File//gone" as ResourceKey;
    const diffs = [
      { type: "orphan" as const, key: orphan, live: { key: orphan, state: {} } },
      { type: "orphan" as const, key: optedOut, live: { key: optedOut, state: {} } },
      { type: "orphan" as const, key: gone },
    ];
    const annotations = new Map([[optedOut, { "ferry.dev/prune": "disabled" }]]);
    assert.deepEqual(planSync(diffs, { prune: false, orphanAnnotations: annotations, kindOrder: PLANNING_ORDER }).kept, [
      { key: orphan, reason: "PruneDisabled" },
      { key: optedOut, reason: "PruneAnnotation" },
      { key: gone, reason: "PruneDisabled" },
    ]);
    const pruning = planSync(diffs, { prune: true, orphanAnnotations: annotations, kindOrder: PLANNING_ORDER });
    assert.deepEqual(pruning.prune, [{ key: orphan }]);
    assert.deepEqual(pruning.kept, [{ key: optedOut, reason: "PruneAnnotation" }]);
  });

  it("an unchanged object plans nothing", () => {
    const object = host("File", "same");
    const plan = planSync(diffObjects([{ object, state: { a: 1 } }], new Map([[object.key, { key: object.key, state: { a: 1 } }]]), []), { prune: true, kindOrder: PLANNING_ORDER });
    assert.ok(isEmptyPlan(plan));
    assert.deepEqual(plan.unchanged, [object.key]);
  });

  it("applies Namespaces and CustomResourceDefinitions of a wave before its other objects, in a wave of their own", () => {
    const kube = (apiVersion: string, kind: string, name: string, wave?: number) =>
      makeObject({ apiVersion, kind, metadata: { name, ...(wave !== undefined ? { annotations: { "ferry.dev/wave": String(wave) } } : {}) } });
    const objects = [
      kube("apps/v1", "Deployment", "web"),
      kube("v1", "Namespace", "team"),
      kube("apiextensions.k8s.io/v1", "CustomResourceDefinition", "widgets.example.com"),
      kube("example.com/v1", "Widget", "w"),
      kube("v1", "ConfigMap", "late", 1),
    ];
    const plan = planSync(diffObjects(objects.map((object) => ({ object, state: {} })), new Map(), []), { prune: true, kindOrder: PLANNING_ORDER });
    assert.deepEqual(
      plan.waves.map((w) => [w.wave, w.definitions === true, w.actions.map((a) => a.key)]),
      [
        [0, true, ["/Namespace//team", "apiextensions.k8s.io/CustomResourceDefinition//widgets.example.com"]],
        [0, false, ["apps/Deployment//web", "example.com/Widget//w"]],
        [1, false, ["/ConfigMap//late"]],
      ],
    );
  });
});
