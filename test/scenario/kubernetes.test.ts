// The Kubernetes target driven as a user drives it: the agent started from the
// CLI with a kubeconfig, a real Git repository, and the fake API server.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, test } from "node:test";
import { chromium } from "playwright-core";
import { dashboardUrl, readAgentInfo } from "../../src/agent/state-dir.js";
import { findCondition } from "../../src/core/conditions.js";
import { isJsonObject } from "../../src/core/json.js";
import { editByHand, getObject } from "../support/kube-test-support.js";
import { isReady, outputOf } from "./harness.js";
import { kubeApplicationYaml, startKubeScenario } from "./kube-scenario.js";

const APPLICATION = kubeApplicationYaml({ name: "web", namespace: "shop" });

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

const SCALED_APPLICATION = kubeApplicationYaml({
  name: "web",
  namespace: "shop",
  ignoreDifferences: ["{group: apps, kind: Deployment, name: web, jsonPointers: [/spec/replicas]}", "{kind: Secret, jsonPointers: [/data]}"],
});
const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "web:1"}]
`;

/** base64 of "first-token-value" and "rotated-token-value": neither may ever be shown. */
const FIRST_TOKEN = Buffer.from("first-token-value").toString("base64");
const ROTATED_TOKEN = Buffer.from("rotated-token-value").toString("base64");

const SECRET = `apiVersion: v1
kind: Secret
metadata:
  name: api-token
data:
  token: ${FIRST_TOKEN}
`;

const DEPLOYMENT_PATH = "/apis/apps/v1/namespaces/shop/deployments/web";
const SECRET_PATH = "/api/v1/namespaces/shop/secrets/api-token";
const CONFIG_MAP_PATH = "/api/v1/namespaces/shop/configmaps/web";
const SERVICE_PATH = "/api/v1/namespaces/shop/services/web";

/** Debian's Chromium (`apt-get install chromium`); FERRY_CHROMIUM names another. Never downloaded. */
const CHROMIUM = process.env.FERRY_CHROMIUM ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

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

  test("an autoscaler's replicas under an ignore rule: Synced, nothing written, and the diff names the rule", async (t) => {
    const { s, fake, client, kube } = await startKubeScenario(t, { simulateControllers: true });
    const first = await s.commit("web with ignore rules", {
      "ferry/applications.yaml": SCALED_APPLICATION,
      "apps/web/namespace.yaml": NAMESPACE,
      "apps/web/deployment.yaml": DEPLOYMENT,
      "apps/web/secret.yaml": SECRET,
    });
    const agent = s.startAgent({ json: true, extra: kube });
    await s.waitForReady("web", first);
    const clean = await s.ferry("diff", "web");
    assert.equal(clean.code, 0, outputOf(clean));
    assert.equal(clean.stdout.trim(), "web: in sync", "no ignored difference before anyone else writes");

    // An autoscaler scales the Deployment and an operator rotates the Secret: both through the API, as other field managers.
    await editByHand(client, DEPLOYMENT_PATH, { spec: { replicas: 5 } }, "horizontal-pod-autoscaler");
    await editByHand(client, SECRET_PATH, { data: { token: ROTATED_TOKEN } }, "token-rotator");
    fake.stats.reset();
    const syncsBefore = syncsStarted(agent.events());
    // The watch saw the change (the health of the Deployment follows its replicas), then a sync asked for by hand.
    await s.waitForStatus("web", "the agent to see 5 replicas", (st) => st.inventory.some((e) => e.health.message === "5 of 5 replicas available") && isReady(st));
    const sync = await s.ferry("sync", "web");
    assert.equal(sync.code, 0, outputOf(sync));

    assert.equal(fake.stats.writes, 0, `nothing is written for ignored fields (${JSON.stringify(fake.stats.byVerb)})`);
    const live = await getObject(client, DEPLOYMENT_PATH);
    assert.equal(isJsonObject(live?.spec) ? live.spec.replicas : undefined, 5, "the autoscaler's replicas stay");
    const status = await s.status("web");
    assert.equal(status.sync.status, "Synced");
    assert.equal(findCondition(status.conditions, "Ready")?.status, "True", JSON.stringify(status.conditions));
    assert.deepEqual(status.drift, [], "an ignored difference is not drift");
    assert.deepEqual(agent.events().filter((e) => e.type === "DriftDetected"), [], "no drift is reported");
    assert.equal(syncsStarted(agent.events()), syncsBefore, "no sync started after the autoscaler's change");

    // `ferry diff` (through the agent's API) shows both, each with its rule, the live and the Git value, and who set it.
    const text = await s.ferry("diff", "web");
    assert.equal(text.code, 0, `ignored differences change nothing: exit 0\n${outputOf(text)}`);
    assert.match(text.stdout, /^web: in sync; ignore rules hide these differences:/);
    assert.match(text.stdout, /= Deployment\/shop\/web \(matches Git apart from ignored fields\)/);
    assert.match(
      text.stdout,
      /spec\.replicas: live 5, Git 2: ignored by spec\.kubernetes\.ignoreDifferences\[0\] \(group apps, kind Deployment, name web, \/spec\/replicas\); set by horizontal-pod-autoscaler \(Update\)/,
    );
    assert.match(text.stdout, /data\.token: live "\(secret\)", Git "\(secret\)": ignored by spec\.kubernetes\.ignoreDifferences\[1\] \(kind Secret, \/data\); set by token-rotator \(Update\)/);
    const json = await s.ferry("diff", "web", "-o", "json");
    assert.equal(json.code, 0, outputOf(json));
    const diffs = (JSON.parse(json.stdout) as { applications: { diffs: { key: string; type: string; differences: unknown[]; ignored?: unknown[] }[] }[] }).applications[0]?.diffs ?? [];
    assert.deepEqual(
      diffs.find((d) => d.key === "apps/Deployment/shop/web"),
      {
        key: "apps/Deployment/shop/web",
        type: "same",
        differences: [],
        ignored: [
          {
            path: "/spec/replicas",
            desired: 2,
            live: 5,
            ignoredBy: "spec.kubernetes.ignoreDifferences[0] (group apps, kind Deployment, name web, /spec/replicas)",
            explanation: "set by horizontal-pod-autoscaler (Update)",
          },
        ],
      },
    );
    for (const output of [text.stdout, json.stdout]) {
      assert.doesNotMatch(output, new RegExp(`${FIRST_TOKEN}|${ROTATED_TOKEN}|first-token|rotated-token`), "secret values are masked for ignored fields too");
    }

    // The dashboard's diff shows the same (in headless Chromium, where it is installed).
    if (!existsSync(CHROMIUM)) {
      const reason = `no Chromium at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set FERRY_CHROMIUM`;
      console.log(`dashboard part of the ignore-rules scenario skipped: ${reason}`);
      t.diagnostic(reason);
      return;
    }
    const info = await readAgentInfo(s.state);
    assert.ok(info?.readToken, "the agent wrote its read token");
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
    t.after(() => browser.close());
    const page = await browser.newPage();
    await page.goto(dashboardUrl(info.url, info.readToken));
    await page.locator('tr[data-app="web"]').getByRole("link", { name: "web" }).click();
    const ignored = page.locator(".diff-object.ignored", { hasText: "Deployment/shop/web" });
    await ignored.waitFor({ timeout: 20_000 });
    assert.match(
      await ignored.innerText(),
      /spec\.replicas\s+5\s+2\s+ignored by spec\.kubernetes\.ignoreDifferences\[0\] \(group apps, kind Deployment, name web, \/spec\/replicas\); set by horizontal-pod-autoscaler \(Update\)/,
    );
    assert.match(await page.locator("section.card", { hasText: "Diff against Git" }).innerText(), /No differences: the target matches Git\. Ignore rules hide the differences below/);
    assert.doesNotMatch(await page.locator("section.card", { hasText: "Diff against Git" }).innerText(), new RegExp(`${FIRST_TOKEN}|${ROTATED_TOKEN}`));
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

function syncsStarted(events: readonly Record<string, unknown>[]): number {
  return events.filter((e) => e.type === "SyncStarted" && e.application === "web").length;
}
