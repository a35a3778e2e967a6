import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { HealthStatus } from "../../../core/health.js";
import type { JsonObject } from "../../../core/json.js";
import type { HealthRuleSpec } from "./rule.js";
import { compileHealthRule } from "./rule.js";
import { HealthRuleSet } from "./rule-set.js";

const ready = (status: string, reason = "", extra: JsonObject[] = []): JsonObject[] => [{ type: "Ready", status, reason, message: "" }, ...extra];
const object = (apiVersion: string, kind: string, fields: { generation?: number; observed?: number; conditions?: JsonObject[]; deleting?: boolean; spec?: JsonObject; status?: JsonObject } = {}): JsonObject => ({
  apiVersion,
  kind,
  metadata: { name: "x", ...(fields.generation !== undefined ? { generation: fields.generation } : {}), ...(fields.deleting ? { deletionTimestamp: "2026-01-05T03:00:00Z" } : {}) },
  ...(fields.spec ? { spec: fields.spec } : {}),
  ...(fields.observed !== undefined || fields.conditions || fields.status
    ? { status: { ...(fields.status ?? {}), ...(fields.observed !== undefined ? { observedGeneration: fields.observed } : {}), ...(fields.conditions ? { conditions: fields.conditions } : {}) } }
    : {}),
});
const settledDeployment = { spec: { replicas: 1 }, status: { replicas: 1, updatedReplicas: 1, availableReplicas: 1 } };

describe("health semantics (kstatus, as Flux and kubectl wait read it)", () => {
  const table: [string, JsonObject, HealthStatus][] = [
    // observedGeneration missing or behind metadata.generation: the controller has not caught up.
    ["a DaemonSet its controller has not seen", object("apps/v1", "DaemonSet", { generation: 1 }), "Progressing"],
    ["a Deployment without observedGeneration", object("apps/v1", "Deployment", { generation: 1, ...settledDeployment }), "Progressing"],
    ["a Deployment observed and settled", object("apps/v1", "Deployment", { generation: 1, observed: 1, ...settledDeployment }), "Healthy"],
    ["a ReplicaSet behind", object("apps/v1", "ReplicaSet", { generation: 3, observed: 2, spec: { replicas: 0 } }), "Progressing"],
    ["a StatefulSet behind", object("apps/v1", "StatefulSet", { generation: 3, observed: 2, spec: { replicas: 0 } }), "Progressing"],
    ["a custom resource behind", object("example.com/v1", "Widget", { generation: 3, observed: 2, conditions: ready("True") }), "Progressing"],
    ["a Flux object behind, even when Ready", object("kustomize.toolkit.fluxcd.io/v1", "Kustomization", { generation: 3, observed: 2, conditions: ready("True") }), "Progressing"],
    ["a PodDisruptionBudget behind", object("policy/v1", "PodDisruptionBudget", { generation: 2, observed: 1, status: { currentHealthy: 1, desiredHealthy: 1 } }), "Progressing"],
    // Ready=False is a controller still working, unless Stalled or a failure reason of the kind says it gave up.
    ["Ready=False alone", object("example.com/v1", "Widget", { conditions: ready("False", "Waiting") }), "Progressing"],
    ["Ready=False with Stalled=True", object("example.com/v1", "Widget", { conditions: ready("False", "Waiting", [{ type: "Stalled", status: "True", reason: "Broken" }]) }), "Degraded"],
    ["a Certificate being issued", object("cert-manager.io/v1", "Certificate", { conditions: ready("False", "DoesNotExist", [{ type: "Issuing", status: "True" }]) }), "Progressing"],
    ["a Kustomization failing to build", object("kustomize.toolkit.fluxcd.io/v1", "Kustomization", { conditions: ready("False", "BuildFailed") }), "Degraded"],
    ["a Kustomization waiting for a dependency", object("kustomize.toolkit.fluxcd.io/v1", "Kustomization", { conditions: ready("False", "DependencyNotReady") }), "Progressing"],
    ["a Knative Service, whose Ready=False means failed", object("serving.knative.dev/v1", "Service", { conditions: ready("False", "RevisionFailed") }), "Degraded"],
    // deletionTimestamp: terminating, whatever else it says.
    ["a healthy Deployment being deleted", object("apps/v1", "Deployment", { generation: 1, observed: 1, deleting: true, ...settledDeployment }), "Progressing"],
    ["a failed Certificate being deleted", object("cert-manager.io/v1", "Certificate", { deleting: true, conditions: ready("False", "Expired") }), "Progressing"],
    ["a ConfigMap being deleted", object("v1", "ConfigMap", { deleting: true }), "Progressing"],
    // Timeouts the kind defines.
    [
      "a Deployment past its progress deadline",
      object("apps/v1", "Deployment", {
        generation: 1,
        observed: 1,
        spec: { replicas: 2 },
        conditions: [{ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded" }],
        status: { replicas: 2, updatedReplicas: 1, availableReplicas: 1 },
      }),
      "Degraded",
    ],
  ];
  for (const [name, live, status] of table) {
    it(`${name}: ${status}`, () => assert.equal(HealthRuleSet.builtIn().health(live).status, status, JSON.stringify(HealthRuleSet.builtIn().assess(live))));
  }
});

describe("HealthRuleSet", () => {
  const compile = (spec: HealthRuleSpec, source = "ferry/health.yaml:1") => {
    const compiled = compileHealthRule(spec, source);
    assert.ok("rule" in compiled);
    return compiled.rule;
  };
  const always = (name: string, group: string, kind: string, expression: "healthy" | "degraded"): HealthRuleSpec => ({
    name,
    match: [{ group, kind }],
    degraded: expression === "degraded" ? "true" : "false",
    progressing: "false",
    healthy: "true",
    message: `'${name}'`,
  });

  it("puts a user rule before the built-in rule of the same kind", () => {
    const rules = HealthRuleSet.withUserRules([compile(always("my-certificates", "cert-manager.io", "Certificate", "degraded"))]);
    const verdict = rules.assess(object("cert-manager.io/v1", "Certificate", { conditions: ready("True") }));
    assert.deepStrictEqual(verdict, { health: { status: "Degraded", message: "my-certificates" }, rule: "my-certificates (ferry/health.yaml:1)" });
  });

  it("takes exact matches before wildcards, and user wildcards before built-in rules", () => {
    const rules = HealthRuleSet.withUserRules([compile(always("any", "*.example.com", "*", "degraded")), compile(always("gadget", "shop.example.com", "Gadget", "healthy"))]);
    assert.equal(rules.assess(object("shop.example.com/v1", "Gadget")).rule, "gadget (ferry/health.yaml:1)");
    assert.equal(rules.assess(object("shop.example.com/v1", "Widget")).rule, "any (ferry/health.yaml:1)");
    assert.equal(rules.assess(object("example.com/v1", "Widget")).rule, "kstatus (generic conditions)");
    assert.equal(rules.assess(object("apps/v1", "Deployment")).rule, "deployment (built-in)");
  });

  it("among wildcards takes the one with more literal characters, whatever the order written", () => {
    const rules = HealthRuleSet.withUserRules([
      compile(always("broad", "*.example.com", "*", "healthy")),
      compile({ ...always("narrow", "*", "*", "healthy"), match: [{ group: "*", kind: "Widget" }, { group: "shop.example.com", kind: "*" }] }),
    ]);
    assert.equal(rules.assess(object("shop.example.com/v1", "Gadget")).rule, "narrow (ferry/health.yaml:1)");
    assert.equal(rules.assess(object("tools.example.com/v1", "Gadget")).rule, "broad (ferry/health.yaml:1)");
    assert.equal(rules.assess(object("tools.example.com/v1", "Widget")).rule, "broad (ferry/health.yaml:1)");
    assert.equal(rules.assess(object("other.io/v1", "Widget")).rule, "narrow (ferry/health.yaml:1)");
  });

  it("gives Unknown with the error when an expression fails at run time, and Progressing when none holds", () => {
    const rules = HealthRuleSet.withUserRules([
      compile({ name: "bad", match: [{ group: "example.com", kind: "Widget" }], degraded: "status.phase.startsWith('x')", progressing: "false", healthy: "false" }),
      compile({ name: "none", match: [{ group: "example.com", kind: "Gadget" }], degraded: "false", progressing: "false", healthy: "false" }),
    ]);
    assert.deepStrictEqual(rules.health(object("example.com/v1", "Widget", { status: { phase: 3 } })), {
      status: "Unknown",
      message: "rule bad: degraded: found no matching overload for 'startsWith' applied to 'double.(string)'",
    });
    assert.deepStrictEqual(rules.health(object("example.com/v1", "Widget")), { status: "Unknown", message: "rule bad: degraded: field not found: phase" });
    assert.deepStrictEqual(rules.health(object("example.com/v1", "Gadget")), { status: "Progressing", message: "waiting: none of the rule's expressions holds yet" });
  });

  it("reports every expression that does not compile", () => {
    const compiled = compileHealthRule({ name: "x", match: [{ group: "", kind: "Pod" }], degraded: "a ==", progressing: "true", healthy: "(", message: "'ok'" }, "f:1");
    assert.ok("errors" in compiled);
    assert.deepStrictEqual(compiled.errors.map((e) => e.field), ["degraded", "healthy"]);
  });
});
