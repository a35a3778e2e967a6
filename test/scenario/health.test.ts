// `ferry health FILE.yaml` as someone writing a HealthRule runs it: a saved live object, the rules of the checkout, no agent.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { outputOf, runCli } from "./harness.js";

const CERTIFICATE = `apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: shop-tls, namespace: shop, generation: 1}
status:
  observedGeneration: 1
  conditions:
    - {type: Ready, status: "False", reason: DoesNotExist, message: Issuing certificate as Secret does not exist}
    - {type: Issuing, status: "True", reason: DoesNotExist, message: Issuing certificate as Secret does not exist}
`;

const WIDGETS = `apiVersion: v1
kind: List
items:
  - {apiVersion: example.com/v1, kind: Widget, metadata: {name: a}, status: {phase: Ready}}
  - {apiVersion: example.com/v1, kind: Widget, metadata: {name: b}, status: {phase: Broken}}
  - {apiVersion: example.com/v1, kind: Widget, metadata: {name: c}, status: {phase: 3}}
`;

const RULE = `apiVersion: ferry.dev/v1
kind: HealthRule
metadata: {name: widgets}
spec:
  match: [{group: example.com, kind: Widget}]
  degraded: "status.phase.startsWith('Broken')"
  progressing: "status.phase != 'Ready'"
  healthy: "status.phase == 'Ready'"
  message: "'widget is ' + status.phase"
`;

describe("ferry health", { concurrency: true }, () => {
  test("prints the status and the rule that decided it; a repository's HealthRule is used; a failing expression is Unknown", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "ferry-health-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, "certificate.yaml"), CERTIFICATE);
    await writeFile(join(dir, "widgets.yaml"), WIDGETS);

    const certificate = await runCli(["health", "certificate.yaml"], { cwd: dir });
    assert.equal(certificate.code, 1, outputOf(certificate));
    assert.equal(certificate.stdout, "Certificate/shop/shop-tls: Progressing: issuing (DoesNotExist): Issuing certificate as Secret does not exist\n  rule: cert-manager-certificate (built-in)\n");

    const generic = await runCli(["health", "-o", "json", "widgets.yaml"], { cwd: dir });
    assert.equal(generic.code, 0, outputOf(generic));
    assert.deepEqual((JSON.parse(generic.stdout) as { rule: string }[]).map((l) => l.rule), ["kstatus (generic conditions)", "kstatus (generic conditions)", "kstatus (generic conditions)"]);

    await mkdir(join(dir, "ferry"));
    await writeFile(join(dir, "ferry", "health.yaml"), RULE);
    const ruled = await runCli(["health", "-o", "json", "widgets.yaml"], { cwd: dir });
    assert.equal(ruled.code, 1, outputOf(ruled));
    assert.deepEqual(JSON.parse(ruled.stdout), [
      { object: "Widget/a", status: "Healthy", message: "widget is Ready", rule: "widgets (ferry/health.yaml:1)" },
      { object: "Widget/b", status: "Degraded", message: "widget is Broken", rule: "widgets (ferry/health.yaml:1)" },
      { object: "Widget/c", status: "Unknown", message: "rule widgets: degraded: found no matching overload for 'startsWith' applied to 'double.(string)'", rule: "widgets (ferry/health.yaml:1)" },
    ]);

    await writeFile(join(dir, "ferry", "health.yaml"), RULE.replace(`"status.phase.startsWith('Broken')"`, `"status.phase == "`));
    const broken = await runCli(["health", "widgets.yaml"], { cwd: dir });
    assert.equal(broken.code, 2, outputOf(broken));
    assert.match(broken.stderr, /ferry\/health\.yaml:6:\d+: spec\.degraded: health rule "widgets": spec\.degraded is not valid CEL/);
  });
});
