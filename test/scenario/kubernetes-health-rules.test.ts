// A HealthRule in Git, as an operator uses one: the agent reads it with the configuration, the
// Kubernetes target assesses live objects by it, a changed rule re-assesses them, and a rule
// that does not compile is refused while the last good rules keep serving.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { kubeApplicationYaml, startKubeScenario } from "./kube-scenario.js";

const APPLICATION = kubeApplicationYaml({ name: "web", namespace: "shop" });
const NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n";
const configMap = (state: string): string => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  state: ${state}\n`;
const rule = (degraded: string): string => `---
apiVersion: ferry.dev/v1
kind: HealthRule
metadata:
  name: config-maps
spec:
  match: [{group: "", kind: ConfigMap}]
  degraded: ${JSON.stringify(degraded)}
  progressing: "false"
  healthy: "true"
  message: "'state is ' + (has(object.data) && has(object.data.state) ? object.data.state : 'unset')"
`;

describe("HealthRules on the Kubernetes target", () => {
  test("a rule in Git decides health; a changed rule re-assesses; a broken one is refused and the last good one serves", async (t) => {
    const { s, kube } = await startKubeScenario(t);
    const first = await s.commit("web with a rule", {
      "ferry/apps.yaml": APPLICATION + rule("has(object.data) && has(object.data.state) && object.data.state == 'broken'"),
      "apps/web/namespace.yaml": NAMESPACE,
      "apps/web/config.yaml": configMap("fine"),
    });
    s.startAgent({ extra: kube });
    const ready = await s.waitForReady("web", first);
    assert.ok(ready.inventory.some((e) => e.health.message === "state is fine"), JSON.stringify(ready.inventory));

    await s.commit("break it", { "apps/web/config.yaml": configMap("broken") });
    const degraded = await s.waitForStatus("web", "Degraded by the rule", (st) => st.health.status === "Degraded");
    assert.equal(degraded.health.message, "ConfigMap/shop/web: state is broken");

    // Only the rule changes: the same live object reads differently.
    const relaxed = await s.commit("relax the rule", { "ferry/apps.yaml": APPLICATION + rule("false") });
    await s.waitForStatus("web", "Healthy by the relaxed rule", (st) => st.health.status === "Healthy" && st.inventory.some((e) => e.health.message === "state is broken"));

    const broken = await s.commit("a rule that does not compile", { "ferry/apps.yaml": APPLICATION + rule("object.data ==") });
    const status = await s.waitFor("the configuration to be rejected", async () => {
      const result = await s.ferry("status");
      return result.stderr.includes(`configuration at ${broken.slice(0, 8)} was rejected; still using ${relaxed.slice(0, 8)}`) ? result : undefined;
    });
    assert.match(status.stderr, /ferry\/apps\.yaml:\d+:\d+: .*health rule "config-maps": spec\.degraded is not valid CEL/);
    assert.equal((await s.status("web")).health.status, "Healthy", "the last good rules keep serving");
  });
});
