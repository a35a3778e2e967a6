// The Kubernetes target driven as a user drives it: the agent started from the
// CLI with a kubeconfig, a real Git repository, and the fake API server.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { findCondition } from "../../src/core/conditions.js";
import { isJsonObject } from "../../src/core/json.js";
import { editByHand, getObject } from "../../src/targets/kubernetes/kube-test-support.js";
import { outputOf } from "./harness.js";
import { kubeApplicationYaml, startKubeScenario } from "./kube-scenario.js";

const APPLICATION = `apiVersion: ferry.dev/v1
kind: Application
metadata:
  name: web
spec:
  source:
    path: apps/web
  target: kubernetes
  namespace: shop
`;

const NAMESPACE = `apiVersion: v1
kind: Namespace
metadata:
  name: shop
`;

const configMap = (greeting: string): string => `apiVersion: v1
kind: ConfigMap
metadata:
  name: web
data:
  greeting: ${greeting}
`;

const SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`;

const KEPT = `apiVersion: v1
kind: ConfigMap
metadata:
  name: kept
  annotations:
    ferry.dev/prune: disabled
data:
  note: stays when it leaves Git
`;

const CONFIG_MAP_PATH = "/api/v1/namespaces/shop/configmaps/web";
const SERVICE_PATH = "/api/v1/namespaces/shop/services/web";

describe("kubernetes scenario", () => {
  test("commit -> applied; hand edit -> corrected; broken commit -> Stalled with nothing pruned; prune after an agent restart", async (t) => {
    const { s, client, kube } = await startKubeScenario(t, { simulateControllers: true });

    const first = await s.commit("web on kubernetes", {
      "ferry/applications.yaml": APPLICATION,
      "apps/web/namespace.yaml": NAMESPACE,
      "apps/web/config.yaml": configMap("hello"),
      "apps/web/service.yaml": SERVICE,
      "apps/web/kept.yaml": KEPT,
    });
    s.startAgent({ extra: kube });
    await s.waitForReady("web", first);
    const applied = await getObject(client, CONFIG_MAP_PATH);
    assert.ok(applied, "the ConfigMap is applied into the application's namespace");
    assert.deepEqual(applied.data, { greeting: "hello" });
    const metadata = isJsonObject(applied.metadata) ? applied.metadata : {};
    assert.equal(isJsonObject(metadata.labels) ? metadata.labels["ferry.dev/application"] : undefined, "web");
    const managers = Array.isArray(metadata.managedFields) ? metadata.managedFields.filter(isJsonObject).map((m) => `${String(m.manager)}:${String(m.operation)}`) : [];
    assert.ok(managers.includes("ferry:Apply"), `applied with server-side apply by the field manager ferry; managers: ${managers.join(", ")}`);

    // A person edits the ConfigMap: the watch sees it and self-heal puts Git's value back.
    await editByHand(client, CONFIG_MAP_PATH, { data: { greeting: "edited by hand" } });
    await s.waitFor("the hand edit to be corrected", async () => {
      const live = await getObject(client, CONFIG_MAP_PATH);
      return isJsonObject(live?.data) && live.data.greeting === "hello";
    });

    // A broken commit: an unknown resource type, and the Service left Git. Nothing is applied or pruned.
    const broken = await s.commit("broken: a kind the cluster does not serve", {
      "apps/web/config.yaml": configMap("broken"),
      "apps/web/service.yaml": null,
      "apps/web/widget.yaml": "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n",
    });
    const stalled = await s.waitForStatus("web", `Stalled at ${broken.slice(0, 8)}`, (st) => st.lastAttemptedRevision === broken && findCondition(st.conditions, "Stalled")?.status === "True");
    const reason = findCondition(stalled.conditions, "Stalled");
    assert.equal(reason?.reason, "UnknownResourceType");
    assert.match(reason?.message ?? "", /Widget\/shop\/w \(apps\/web\/widget\.yaml:1\)/);
    assert.ok(await getObject(client, SERVICE_PATH), "the Service is not pruned by a broken revision");
    const still = await getObject(client, CONFIG_MAP_PATH);
    assert.deepEqual(still?.data, { greeting: "hello" }, "nothing of the broken revision is applied");

    // The fix applies, and prunes the Service that left Git.
    const fixed = await s.commit("fixed", { "apps/web/widget.yaml": null, "apps/web/config.yaml": configMap("fixed") });
    await s.waitForReady("web", fixed);
    assert.equal(await getObject(client, SERVICE_PATH), undefined, "the Service that left Git is pruned");

    // After a restart the inventory is still known: what leaves Git now is pruned, what opted out stays.
    await s.agent.stop();
    const last = await s.commit("the ConfigMaps leave Git", { "apps/web/config.yaml": null, "apps/web/kept.yaml": null });
    const once = await s.ferry(...s.agentArgs({ once: true, extra: kube }).slice(2));
    assert.equal(once.code, 0, outputOf(once));
    const status = await s.status("web");
    assert.equal(status.sync.revision, last);
    assert.equal(await getObject(client, CONFIG_MAP_PATH), undefined, "pruned by the restarted agent");
    assert.ok(await getObject(client, "/api/v1/namespaces/shop/configmaps/kept"), "ferry.dev/prune: disabled keeps it");
  });

  test("an Application removed from Git has its objects deleted when it prunes, and left running when it does not", async (t) => {
    const { s, client, kube } = await startKubeScenario(t);
    const app = (name: string, prune: boolean): string => kubeApplicationYaml({ name, prune });
    const first = await s.commit("two applications", {
      "ferry/applications.yaml": [app("pruned", true), app("orphaned", false), app("anchor", true)].join("---\n"),
      "apps/pruned/config.yaml": configMap("pruned").replace("name: web", "name: pruned"),
      "apps/orphaned/config.yaml": configMap("orphaned").replace("name: web", "name: orphaned"),
      "apps/anchor/config.yaml": configMap("anchor").replace("name: web", "name: anchor"),
    });
    s.startAgent({ extra: kube });
    for (const name of ["pruned", "orphaned"]) await s.waitForReady(name, first);
    await s.commit("remove both", { "ferry/applications.yaml": app("anchor", true) });
    await s.waitFor("the pruning application's ConfigMap to be deleted", async () => (await getObject(client, "/api/v1/namespaces/default/configmaps/pruned")) === undefined);
    assert.ok(await getObject(client, "/api/v1/namespaces/default/configmaps/orphaned"), "the application with prune: false leaves its objects running");
  });
});
