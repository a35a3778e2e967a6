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
import { isJsonObject } from "../../src/core/json.js";
import { getObject } from "../../src/targets/kubernetes/kube-test-support.js";
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
    assert.match(ready?.message ?? "", new RegExp(`^context "dim" \\(server ${dark.url.replace(/[.:/]/g, "\\$&")}\\): GET /api/v1 got no answer within 2s`));
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
});
