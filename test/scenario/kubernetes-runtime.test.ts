// The Kubernetes target where real clusters differ from a friendly one: a
// cluster that never answers, fields taken by another applier, objects
// deleted behind Ferry's back, and objects Ferry did not create. Driven
// through the CLI against the fake API server.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { stringify } from "yaml";
import { findCondition } from "../../src/core/conditions.js";
import { startDarkServer } from "../support/dark-server.js";
import type { JsonObject } from "../../src/core/json.js";
import { isJsonObject } from "../../src/core/json.js";
import type { KubeClient } from "../../src/targets/kubernetes/kube-client.js";
import { getObject } from "../support/kube-test-support.js";
import { isReady, outputOf } from "./harness.js";
import { configMapYaml, kubeApplicationYaml, startKubeScenario } from "./kube-scenario.js";

const CONTESTED_PATH = "/api/v1/namespaces/default/configmaps/contested";
const OTHER_PATH = "/api/v1/namespaces/default/configmaps/other";

/** A kubeconfig with a context per entry, each its own cluster. */
function kubeconfigOf(contexts: Readonly<Record<string, string>>, current: string): string {
  const names = Object.keys(contexts);
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: names.map((name) => ({ name, cluster: { server: contexts[name], "insecure-skip-tls-verify": true } })),
    users: [{ name: "user", user: { token: "token" } }],
    contexts: names.map((name) => ({ name, context: { cluster: name, user: "user" } })),
    "current-context": current,
  });
}

/** An Application of one ConfigMap on a kubeconfig context. */
function applicationOn(name: string, cluster: string): string {
  return ["apiVersion: ferry.dev/v1", "kind: Application", "metadata:", `  name: ${name}`, "spec:", "  source:", `    path: apps/${name}`, "  target: kubernetes", `  cluster: ${cluster}`, ""].join("\n");
}

describe("kubernetes target on real clusters", () => {
  test("a cluster that accepts and never answers holds only its own applications, and its error names the context and server", async (t) => {
    const { s, fake } = await startKubeScenario(t);
    const dark = await startDarkServer();
    t.after(() => dark.close());
    const kubeconfig = join(s.dir, "two-clusters");
    // Two contexts on the same silent server: "dark" with a timeout longer than the test, "dim" with a short one.
    await writeFile(kubeconfig, kubeconfigOf({ fake: fake.url, dark: dark.url, dim: dark.url }, "fake"));
    // More applications on the dark cluster than a target has workers, queued first.
    const darkApps = ["a-dark-1", "a-dark-2", "a-dark-3", "a-dark-4", "a-dark-5", "a-dark-6"];
    const liveApps = ["z-live-1", "z-live-2"];
    const files: Record<string, string> = {
      "ferry/applications.yaml": [...darkApps.map((n) => applicationOn(n, "dark")), applicationOn("b-dim", "dim"), ...liveApps.map((n) => applicationOn(n, "fake"))].join("---\n"),
    };
    for (const name of [...darkApps, "b-dim", ...liveApps]) files[`apps/${name}/config.yaml`] = configMapYaml(name, { greeting: "hello" });
    const revision = await s.commit("applications on three clusters", files);
    s.startAgent({ extra: ["--kubeconfig", kubeconfig, "--kube-timeout", "30s,dark=10m,dim=2s"] });

    for (const name of liveApps) await s.waitForReady(name, revision);
    assert.ok(dark.accepted() > 0, "the dark cluster was asked");

    const failed = await s.waitForStatus("b-dim", "failed on the silent cluster", (st) => findCondition(st.conditions, "Ready")?.reason === "ClusterTimeout");
    const ready = findCondition(failed.conditions, "Ready");
    assert.match(ready?.message ?? "", new RegExp(`^context "dim" \\(server ${dark.url.replace(/[.:/]/g, "\\$&")}\\): GET /api\\S* got no answer within 2s`));
    assert.match(ready?.message ?? "", /; retrying in \d+s/, "the status says a retry comes, and when");
    assert.equal(findCondition(failed.conditions, "Stalled"), undefined, "a cluster that does not answer is a failure of the moment, not of the revision");
    for (const name of liveApps) assert.ok(isReady(await s.status(name)), `${name} stays Ready`);
  });

  test("a field another applier took is retried, not stalled: a deleted object is recreated meanwhile, the diff names the manager, and the field comes back once released", async (t) => {
    const { s, client, kube } = await startKubeScenario(t);
    const revision = await s.commit("two config maps", {
      "ferry/applications.yaml": kubeApplicationYaml({ name: "web" }),
      "apps/web/contested.yaml": configMapYaml("contested", { greeting: "ours" }),
      "apps/web/other.yaml": configMapYaml("other", { note: "kept by ferry" }),
    });
    s.startAgent({ extra: kube });
    await s.waitForReady("web", revision);

    // Another applier takes the field with --force-conflicts.
    const applyAs = async (data: Readonly<Record<string, string>>): Promise<void> => {
      const res = await client.request({
        method: "PATCH",
        path: CONTESTED_PATH,
        query: { fieldManager: "other-applier", force: "true" },
        body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "contested", namespace: "default" }, data },
        contentType: "application/apply-patch+yaml",
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    };
    await applyAs({ greeting: "theirs" });
    const conflicted = await s.waitForStatus("web", "the conflict reported", (st) => findCondition(st.conditions, "Ready")?.reason === "ApplyConflict");
    const ready = findCondition(conflicted.conditions, "Ready");
    assert.match(ready?.message ?? "", /\.data\.greeting \(owned by other-applier\)/);
    assert.match(ready?.message ?? "", /; retrying in \d+s \(attempt \d+\)$/);
    assert.ok(conflicted.nextRetryAt, "the status says when the next attempt comes");
    assert.equal(findCondition(conflicted.conditions, "Stalled"), undefined, "a conflict is a failure of the moment: never Stalled");
    assert.equal(conflicted.sync.revision, revision);

    // The diff shows the contested field and who holds it.
    const diff = await s.ferry("diff", "web");
    assert.match(diff.stdout, /data\.greeting.*set by other-applier \(Apply\)/s, outputOf(diff));

    // Meanwhile, at the same revision, an object deleted by hand is recreated.
    const removed = await client.request({ method: "DELETE", path: OTHER_PATH });
    assert.equal(removed.status, 200);
    await s.waitFor("the deleted ConfigMap to be recreated", async () => (await getObject(client, OTHER_PATH)) !== undefined);

    // The other applier lets the field go: the next attempt (or the drift event) takes it back.
    await applyAs({});
    await s.waitFor("Git's value to be restored", async () => {
      const live = await getObject(client, CONTESTED_PATH);
      return isJsonObject(live?.data) && live.data.greeting === "ours";
    });
    const healed = await s.waitForReady("web", revision);
    assert.equal(healed.nextRetryAt, undefined, "no retry is due once it succeeded");
  });

  test("ferry deletes only what it created: a pre-existing namespace is refused, adopted only when told, and released rather than pruned", async (t) => {
    const { s, client, kube } = await startKubeScenario(t);
    // Someone made the namespace, and put something in it, before it appeared in Git.
    await createObject(client, "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } });
    await createObject(client, "/api/v1/namespaces/shop/configmaps", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "hand-made", namespace: "shop" }, data: { note: "never in Git" } });
    const files = {
      "apps/web/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n",
      "apps/web/web.yaml": configMapYaml("web", { greeting: "hello" }),
      "apps/web/settings.yaml": configMapYaml("settings", { level: "info" }),
    };
    const first = await s.commit("web in shop", { "ferry/applications.yaml": kubeApplicationYaml({ name: "web", namespace: "shop" }), ...files });
    s.startAgent({ extra: kube });
    const refused = await s.waitForStatus("web", "the namespace refused", (st) => st.lastAttemptedRevision === first && findCondition(st.conditions, "Ready")?.reason === "NotAdopted");
    assert.match(findCondition(refused.conditions, "Ready")?.message ?? "", /^Namespace\/shop \(apps\/web\/namespace\.yaml:1\) exists already and was not created by ferry; it is left alone: set spec\.kubernetes\.adopt: true/);
    assert.equal(findCondition(refused.conditions, "Stalled"), undefined);
    assert.deepEqual(marksOf(await getObject(client, NAMESPACE_PATH)), {}, "the namespace is not taken over");

    // Told to adopt: the namespace is taken over, marked as adopted, and the history says so.
    const adopting = await s.commit("adopt what exists", { "ferry/applications.yaml": kubeApplicationYaml({ name: "web", namespace: "shop", adopt: true }) });
    const adopted = await s.waitForReady("web", adopting);
    assert.deepEqual(adopted.lastSync?.changeSet.adopted, ["/Namespace//shop"]);
    assert.match(adopted.lastSync?.message ?? "", /1 adopted/);
    assert.deepEqual(marksOf(await getObject(client, NAMESPACE_PATH)), { "ferry.dev/application": "web", "ferry.dev/adopted-by": "web" });
    assert.deepEqual(marksOf(await getObject(client, "/api/v1/namespaces/shop/configmaps/web")), { "ferry.dev/application": "web", "ferry.dev/owned-by": "web" }, "what ferry created says so");
    const history = await s.ferry("history", "web", "-o", "json");
    assert.match(history.stdout, /"adopted":\s*\[\s*"\/Namespace\/\/shop"\s*\]/, outputOf(history));

    // The namespace leaves Git: it is released, not deleted, and what was in it stays.
    const left = await s.commit("the namespace leaves Git", { "apps/web/namespace.yaml": null });
    const released = await s.waitForReady("web", left);
    assert.deepEqual(released.lastSync?.changeSet.released, ["/Namespace//shop"]);
    assert.deepEqual(released.lastSync?.changeSet.deleted, []);
    assert.deepEqual(marksOf(await getObject(client, NAMESPACE_PATH)), {}, "given back unmarked");
    assert.ok(await getObject(client, "/api/v1/namespaces/shop/configmaps/hand-made"), "what was never in Git stays");
    assert.ok(!released.inventory.some((e) => e.key === "/Namespace//shop"), "no longer managed");
  });

  test("a namespace ferry created is not deleted while it holds objects ferry does not manage: reported, and deleted once they are gone", async (t) => {
    const { s, client, kube } = await startKubeScenario(t);
    const team = (name: string): string => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: team\ndata:\n  team: "yes"\n`;
    const first = await s.commit("team namespace", {
      "ferry/applications.yaml": kubeApplicationYaml({ name: "web" }),
      "apps/web/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n",
      "apps/web/team.yaml": team("web"),
      ...Object.fromEntries(["a", "b", "c"].map((n) => [`apps/web/${n}.yaml`, configMapYaml(n, { n })])),
    });
    s.startAgent({ extra: kube });
    await s.waitForReady("web", first);
    // A person adds something to the namespace by hand.
    await createObject(client, "/api/v1/namespaces/team/configmaps", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "hand-made", namespace: "team" }, data: { note: "by hand" } });

    const gone = await s.commit("the team namespace leaves Git", { "apps/web/namespace.yaml": null, "apps/web/team.yaml": null });
    const refused = await s.waitForStatus("web", "the namespace kept", (st) => st.lastAttemptedRevision === gone && findCondition(st.conditions, "Ready")?.reason === "NamespaceNotEmpty");
    assert.match(findCondition(refused.conditions, "Ready")?.message ?? "", /not deleting Namespace team: it holds an object application "web" does not manage \(ConfigMap\/team\/hand-made\)/);
    assert.equal(await getObject(client, "/api/v1/namespaces/team/configmaps/web"), undefined, "what ferry created in it is pruned");
    assert.ok(await getObject(client, "/api/v1/namespaces/team/configmaps/hand-made"), "what it did not create stays");
    assert.ok(await getObject(client, "/api/v1/namespaces/team"), "and so does the namespace");
    assert.ok(refused.inventory.some((e) => e.key === "/Namespace//team"), "still in the inventory, to be deleted later");

    // The person removes their object: the next attempt deletes the namespace.
    const removed = await client.request({ method: "DELETE", path: "/api/v1/namespaces/team/configmaps/hand-made" });
    assert.equal(removed.status, 200);
    await s.waitForReady("web", gone);
    await s.waitFor("the namespace to be deleted", async () => {
      const ns = await getObject(client, "/api/v1/namespaces/team");
      return ns === undefined || (isJsonObject(ns.status) && ns.status.phase === "Terminating");
    });
  });
});

const NAMESPACE_PATH = "/api/v1/namespaces/shop";

/** Creates an object as a person would with kubectl create. */
async function createObject(client: KubeClient, path: string, body: JsonObject): Promise<void> {
  const res = await client.request({ method: "POST", path, body });
  assert.equal(res.status, 201, JSON.stringify(res.body));
}

/** Ferry's label and marks on an object. */
function marksOf(object: JsonObject | undefined): Record<string, unknown> {
  const meta = isJsonObject(object?.metadata) ? object.metadata : {};
  const all = { ...(isJsonObject(meta.labels) ? meta.labels : {}), ...(isJsonObject(meta.annotations) ? meta.annotations : {}) };
  return Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith("ferry.dev/")));
}
