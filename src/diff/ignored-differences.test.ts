import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ResourceKey } from "../core/ids.js";
import type { JsonValue } from "../core/json.js";
import { makeObject } from "../../test/support/target-testing.js";
import type { IgnoredField, LiveObject } from "../targets/target.js";
import { diffObjects } from "./diff-objects.js";
import { formatDiffs, isChange, toDiffView } from "./format-diff.js";
import { ignoredDifferences } from "./ignored-differences.js";
import { SECRET_MARKER } from "./secrets.js";

const RULE = "spec.kubernetes.ignoreDifferences[0] (kind Deployment, /spec/replicas)";
const replicas = (desired?: number): IgnoredField => ({ pointer: "/spec/replicas", rule: RULE, ...(desired !== undefined ? { desired } : {}) });
const deployment = makeObject({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "shop" }, spec: { replicas: 1, image: "web:1" } });

function diffWith(ignored: readonly IgnoredField[], liveIgnored: Record<string, JsonValue>, liveImage = "web:1") {
  const live = new Map<ResourceKey, LiveObject>([[deployment.key, { key: deployment.key, state: { spec: { image: liveImage } }, ignored: liveIgnored }]]);
  return diffObjects([{ object: deployment, state: { spec: { image: "web:1" } }, ignored }], live, []);
}

describe("ignoredDifferences", () => {
  it("reports a declared field whose live value differs, naming the rule", () => {
    assert.deepEqual(ignoredDifferences([replicas(1)], { "/spec/replicas": 5 }), [{ path: "/spec/replicas", desired: 1, live: 5, ignoredBy: RULE }]);
    assert.deepEqual(ignoredDifferences([replicas(1)], {}), [{ path: "/spec/replicas", desired: 1, ignoredBy: RULE }], "a field the live object lacks");
  });

  it("finds no difference where values match or Git leaves the field to others", () => {
    assert.deepEqual(ignoredDifferences([replicas(5)], { "/spec/replicas": 5 }), []);
    assert.deepEqual(ignoredDifferences([replicas()], { "/spec/replicas": 5 }), []);
    assert.deepEqual(ignoredDifferences(undefined, { "/spec/replicas": 5 }), []);
  });

  it("compares only what Git declares inside an object, so server defaults are no difference", () => {
    const resources: IgnoredField = { pointer: "/spec/template", rule: "r", desired: { labels: { app: "web" }, ports: [{ port: 80 }] } };
    const live = { "/spec/template": { labels: { app: "web", extra: "x" }, ports: [{ port: 80, protocol: "TCP" }], defaulted: true } };
    assert.deepEqual(ignoredDifferences([resources], live), []);
    const changed = { "/spec/template": { labels: { app: "api" }, ports: [{ port: 80 }, { port: 81 }] } };
    assert.deepEqual(ignoredDifferences([resources], changed), [
      { path: "/spec/template/labels/app", desired: "web", live: "api", ignoredBy: "r" },
      { path: "/spec/template/ports", desired: [{ port: 80 }], live: [{ port: 80 }, { port: 81 }], ignoredBy: "r" },
    ]);
  });

  it("shows a field two rules cover once, under the first", () => {
    const other: IgnoredField = { pointer: "/spec/replicas", rule: "second", desired: 1 };
    assert.deepEqual(ignoredDifferences([replicas(1), other], { "/spec/replicas": 3 }), [{ path: "/spec/replicas", desired: 1, live: 3, ignoredBy: RULE }]);
  });
});

describe("diffObjects with ignored fields", () => {
  it("keeps an object whose only differences are ignored `same`, carrying them as information", () => {
    const [diff] = diffWith([replicas(1)], { "/spec/replicas": 5 });
    assert.equal(diff?.type, "same");
    assert.deepEqual(diff?.type === "same" ? diff.ignored : undefined, [{ path: "/spec/replicas", desired: 1, live: 5, ignoredBy: RULE }]);
    const view = diff ? toDiffView(diff) : undefined;
    assert.ok(view && !isChange(view), "an ignored difference changes nothing");
    assert.equal(
      formatDiffs(view ? [view] : []),
      `= Deployment/shop/web (matches Git apart from ignored fields)\n    spec.replicas: live 5, Git 1: ignored by ${RULE}`,
    );
  });

  it("shows ignored fields under a changed object, after the real differences", () => {
    const [diff] = diffWith([replicas(1)], { "/spec/replicas": 5 }, "web:2");
    assert.equal(diff?.type, "changed");
    const view = diff ? toDiffView(diff) : undefined;
    assert.ok(view && isChange(view));
    assert.equal(formatDiffs(view ? [view] : []), `~ Deployment/shop/web\n    spec.image: "web:2" -> "web:1"\n    spec.replicas: live 5, Git 1: ignored by ${RULE}`);
  });

  it("has no ignored list when the ignored fields match", () => {
    const [diff] = diffWith([replicas(1)], { "/spec/replicas": 1 });
    assert.equal(diff?.type, "same");
    assert.equal(diff ? toDiffView(diff).ignored : "none", undefined);
  });

  it("masks secret values of ignored fields on both sides", () => {
    const secret = makeObject({ apiVersion: "v1", kind: "Secret", metadata: { name: "db", namespace: "shop" }, data: { password: "b2xk" } });
    const field: IgnoredField = { pointer: "/data", rule: "spec.kubernetes.ignoreDifferences[1] (kind Secret, /data)", desired: { password: "b2xk" } };
    const live = new Map<ResourceKey, LiveObject>([[secret.key, { key: secret.key, state: {}, ignored: { "/data": { password: "bmV3" } } }]]);
    const [diff] = diffObjects([{ object: secret, state: {}, ignored: [field], secret: (p) => p.startsWith("/data") }], live, []);
    const shown = diff?.type === "same" ? diff.ignored : undefined;
    assert.deepEqual(shown, [{ path: "/data/password", desired: SECRET_MARKER, live: SECRET_MARKER, ignoredBy: field.rule }]);
    assert.doesNotMatch(JSON.stringify(diff ? toDiffView(diff) : {}), /b2xk|bmV3/);
  });
});
