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
import { isReady } from "./harness.js";
import { configMapYaml, startKubeScenario } from "./kube-scenario.js";

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
    await writeFile(kubeconfig, kubeconfigOf({ fake: fake.url, dark: dark.url }, "fake"));
    // More applications on the dark cluster than a target has workers, queued first.
    const darkApps = ["a-dark-1", "a-dark-2", "a-dark-3", "a-dark-4", "a-dark-5", "a-dark-6"];
    const liveApps = ["z-live-1", "z-live-2"];
    const files: Record<string, string> = {
      "ferry/applications.yaml": [...darkApps.map((n) => applicationOn(n, "dark")), ...liveApps.map((n) => applicationOn(n, "fake"))].join("---\n"),
    };
    for (const name of [...darkApps, ...liveApps]) files[`apps/${name}/config.yaml`] = configMapYaml(name, { greeting: "hello" });
    const revision = await s.commit("applications on two clusters", files);
    s.startAgent({ extra: ["--kubeconfig", kubeconfig, "--kube-timeout", "30s,dark=3s"] });

    for (const name of liveApps) await s.waitForReady(name, revision);
    assert.ok(dark.accepted() > 0, "the dark cluster was asked");

    const failed = await s.waitForStatus("a-dark-1", "failed on the dark cluster", (st) => findCondition(st.conditions, "Ready")?.reason === "ClusterTimeout");
    const ready = findCondition(failed.conditions, "Ready");
    assert.match(ready?.message ?? "", new RegExp(`^context "dark" \\(server ${dark.url.replace(/[.:/]/g, "\\$&")}\\): GET /api/v1 got no answer within 3s`));
    assert.match(ready?.message ?? "", /; retrying in \d+s/, "the status says a retry comes, and when");
    assert.equal(findCondition(failed.conditions, "Stalled"), undefined, "a cluster that does not answer is a failure of the moment, not of the revision");
    for (const name of liveApps) assert.ok(isReady(await s.status(name)), `${name} stays Ready`);
  });
});
