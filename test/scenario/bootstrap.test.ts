// `ferry bootstrap` as users run it: the CLI, the fake API server with
// simulated controllers, and a real Git repository.
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { describe, test } from "node:test";
import { isJsonObject } from "../../src/core/json.js";
import { findExecutable } from "../../src/render/tools/find-tool.js";
import { getObject } from "../support/kube-test-support.js";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { startDarkServer } from "../support/dark-server.js";
import { startFakeKube } from "../support/kube-fake/index.js";
import { writeKubeconfig } from "../support/kube-fake/kubeconfig.js";
import { freePort, outputOf, scaled, Scenario } from "./harness.js";
import { startKubeScenario } from "./kube-scenario.js";

const DEPLOYMENT_PATH = "/apis/apps/v1/namespaces/ferry-system/deployments/ferry";

function agentArgs(deployment: unknown): string[] {
  const spec = isJsonObject(deployment) && isJsonObject(deployment.spec) ? deployment.spec : {};
  const template = isJsonObject(spec.template) && isJsonObject(spec.template.spec) ? spec.template.spec : {};
  const containers = Array.isArray(template.containers) ? template.containers : [];
  const agent = containers.find((c) => isJsonObject(c) && c.name === "agent");
  return isJsonObject(agent) && Array.isArray(agent.args) ? agent.args.map(String) : [];
}

// Ferry's install manifests are a kustomization: rendering them needs kustomize or kubectl.
const renderer = await findExecutable(["kustomize", "kubectl"]);
const needsRenderer = renderer ? {} : { skip: "neither kustomize nor kubectl is on PATH to render deploy/kubernetes" };

describe("ferry bootstrap", () => {
  test("installs the agent with the repository in its args; a second run writes nothing; the missing root Application is explained", needsRenderer, async (t) => {
    const { s, fake, client } = await startKubeScenario(t, { simulateControllers: true });
    await s.commit("empty configuration", { "ferry/.keep": "" });
    const args = ["bootstrap", "--repo", s.repo, "--ref", "main", "--path", "ferry", "--kubeconfig", fake.kubeconfigPath, "--kube-context", "fake", "--image", "registry.acme.test/ferry:1.2.3", "--timeout", "30s"];

    const first = await s.ferry(...args);
    assert.equal(first.code, 0, outputOf(first));
    assert.match(first.stdout, /Deployment\/ferry-system\/ferry: created/);
    assert.match(first.stdout, /ready: Namespace ferry-system Active, Deployment ferry-system\/ferry Healthy/);
    assert.match(first.stdout, /has no Application that manages Ferry itself/);
    assert.match(first.stdout, /--write-root/);
    const deployment = await getObject(client, DEPLOYMENT_PATH);
    assert.ok(deployment, "the Deployment exists");
    assert.ok(agentArgs(deployment).includes(`--repo=${s.repo}`), `args: ${agentArgs(deployment).join(" ")}`);
    assert.ok(agentArgs(deployment).includes("--ref=main"));
    assert.ok(agentArgs(deployment).includes("--path=ferry"));
    assert.match(JSON.stringify(deployment), /registry\.acme\.test\/ferry:1\.2\.3/);
    for (const path of ["/api/v1/namespaces/ferry-system", "/apis/rbac.authorization.k8s.io/v1/clusterroles/ferry-agent", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/ferry-agent", "/api/v1/namespaces/ferry-system/serviceaccounts/ferry", "/api/v1/namespaces/ferry-system/persistentvolumeclaims/ferry-state", "/api/v1/namespaces/ferry-system/services/ferry"]) {
      assert.ok(await getObject(client, path), `${path} exists`);
    }
    const meta = isJsonObject(deployment.metadata) ? deployment.metadata : {};
    assert.equal(isJsonObject(meta.labels) ? meta.labels["ferry.dev/application"] : undefined, "ferry", "labelled for the root Application to take over");

    const writes = fake.stats.writes;
    const second = await s.ferry(...args);
    assert.equal(second.code, 0, outputOf(second));
    assert.equal(fake.stats.writes, writes, `a second run writes nothing:\n${outputOf(second)}`);
    assert.match(second.stdout, /applied: 0 created, 0 configured, 7 unchanged/);

    // kubectl's --context, and the result as data for scripts: stdout is the JSON alone.
    const asJson = await s.ferry(...args.map((a) => (a === "--kube-context" ? "--context" : a)), "-o", "json");
    assert.equal(asJson.code, 0, outputOf(asJson));
    const result = JSON.parse(asJson.stdout) as { applied: Record<string, number>; healthy: boolean; root: string };
    assert.deepEqual([result.applied["unchanged"], result.healthy, result.root], [7, true, "missing"]);

    const other = await s.ferry(...args.map((a) => (a === "registry.acme.test/ferry:1.2.3" ? "registry.acme.test/ferry:1.2.4" : a)));
    assert.equal(other.code, 0, outputOf(other));
    assert.match(other.stdout, /Deployment\/ferry-system\/ferry: configured/);
  });

  test("--write-root commits the root Application and Ferry's manifests; run again, it commits nothing", needsRenderer, async (t) => {
    const { s, fake, client, kube } = await startKubeScenario(t, { simulateControllers: true });
    const before = await s.commit("empty configuration", { "ferry/.keep": "" });
    // The repository is the user's own checkout: the push must leave its work tree clean.
    const args = ["bootstrap", "--repo", s.repo, "--kubeconfig", fake.kubeconfigPath, "--kube-context", "fake", "--write-root", "--timeout", "30s"];

    const first = await s.ferry(...args);
    assert.equal(first.code, 0, outputOf(first));
    const head = await s.head();
    assert.notEqual(head, before, "a commit was pushed");
    assert.equal((await s.git("log", "-1", "--format=%P")).trim(), before);
    const files = (await s.git("show", "--name-only", "--format=", head)).trim().split("\n").sort();
    assert.ok(files.includes("ferry/ferry.yaml"), files.join(" "));
    assert.ok(files.includes("deploy/deployment.yaml") && files.includes("deploy/rbac.yaml") && !files.includes("deploy/kustomization.yaml"), files.join(" "));
    assert.match(await s.git("show", `${head}:ferry/ferry.yaml`), /name: ferry[\s\S]*path: deploy[\s\S]*target: kubernetes/);
    assert.match(await s.git("show", `${head}:deploy/deployment.yaml`), new RegExp(`--repo=${s.repo.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));

    const writes = fake.stats.writes;
    const second = await s.ferry(...args);
    assert.equal(second.code, 0, outputOf(second));
    assert.equal(await s.head(), head, "nothing more is committed");
    assert.equal(fake.stats.writes, writes, "nothing more is applied");
    assert.match(second.stdout, /root Application ferry in ferry\/ already manages Ferry/);

    // The Service leaves Git before the agent ever ran: no record and no desired object name it, yet it is the root
    // Application's (bootstrap's label and mark say so), in its inventory with the rest, and pruned when asked.
    const gone = await s.commit("ferry without its Service", { "deploy/service.yaml": null });
    s.startAgent({ extra: kube });
    const found = await s.waitForStatus("ferry", `the Service in the inventory at ${gone.slice(0, 8)}`, (st) => st.lastAttemptedRevision === gone && st.inventory.length === 7);
    assert.deepEqual(
      found.inventory.map((e) => String(e.key)).sort(),
      [
        "/Namespace//ferry-system",
        "/PersistentVolumeClaim/ferry-system/ferry-state",
        "/Service/ferry-system/ferry",
        "/ServiceAccount/ferry-system/ferry",
        "apps/Deployment/ferry-system/ferry",
        "rbac.authorization.k8s.io/ClusterRole//ferry-agent",
        "rbac.authorization.k8s.io/ClusterRoleBinding//ferry-agent",
      ],
    );
    assert.equal(fake.stats.writes, writes, "the agent applies nothing: Ferry's objects are as Git has them");
    const pruned = await s.ferry("sync", "ferry", "--prune");
    assert.equal(pruned.code, 0, outputOf(pruned));
    assert.equal(await getObject(client, "/api/v1/namespaces/ferry-system/services/ferry"), undefined, "the Service that left Git is pruned");
  });

  test("under RBAC: bootstrapped by an administrator, the agent manages itself (its own ClusterRole and binding too) with its ServiceAccount's token", needsRenderer, async (t) => {
    const { s, fake, client } = await startKubeScenario(t, { simulateControllers: true, rbac: true });
    await s.commit("empty configuration", { "ferry/.keep": "" });
    const boot = await s.ferry("bootstrap", "--repo", s.repo, "--kubeconfig", fake.kubeconfigPath, "--kube-context", "fake", "--write-root", "--timeout", "30s");
    assert.equal(boot.code, 0, outputOf(boot));

    // Commits change Ferry's own objects, its RBAC among them: the role widened (a rule for leases), the binding relabelled.
    const rbac = await s.git("show", "HEAD:deploy/rbac.yaml");
    const widened = rbac
      .replace("rules:\n", "rules:\n  - apiGroups: [coordination.k8s.io]\n    resources: [leases]\n    verbs: [get, list, watch]\n")
      .replace(/(kind: ClusterRoleBinding\nmetadata:\n {2}name: ferry-agent\n {2}labels:\n)/, "$1    acme.test/team: platform\n");
    assert.ok(widened.includes("leases") && widened.includes("acme.test/team"), widened);
    const changed = await s.commit("ferry may read leases", { "deploy/rbac.yaml": widened, "deploy/service.yaml": (await s.git("show", "HEAD:deploy/service.yaml")).replace("spec:\n", "  annotations:\n    acme.test/owner: platform\nspec:\n") });

    // The agent as it runs in its pod: the ServiceAccount's token, the ClusterRole of deploy/kubernetes, nothing else.
    const agentKubeconfig = await fake.kubeconfigFor(fake.serviceAccountToken("ferry-system", "ferry"));
    s.startAgent({ extra: ["--kubeconfig", agentKubeconfig, "--kube-context", "fake"] });
    const synced = await s.waitForReady("ferry", changed);
    assert.deepEqual(synced.problems, []);
    const keys = synced.inventory.map((e) => String(e.key));
    assert.ok(keys.includes("rbac.authorization.k8s.io/ClusterRole//ferry-agent") && keys.includes("rbac.authorization.k8s.io/ClusterRoleBinding//ferry-agent"), keys.join(" "));
    const role = await getObject(client, "/apis/rbac.authorization.k8s.io/v1/clusterroles/ferry-agent");
    assert.match(JSON.stringify(role?.["rules"]), /coordination\.k8s\.io/, "the widened role is applied (escalate on ferry-agent)");
    const binding = await getObject(client, "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/ferry-agent");
    assert.match(JSON.stringify(binding?.["metadata"]), /acme\.test\/team/);
    assert.doesNotMatch(s.agentOutput(), /forbidden|403/i);

    // Narrowed again: applied as well.
    const narrowed = await s.commit("ferry reads no leases", { "deploy/rbac.yaml": rbac });
    await s.waitForReady("ferry", narrowed);
    assert.doesNotMatch(JSON.stringify((await getObject(client, "/apis/rbac.authorization.k8s.io/v1/clusterroles/ferry-agent"))?.["rules"]), /leases/);
    assert.doesNotMatch(s.agentOutput(), /forbidden|403/i);
  });

  test("an unreachable API server is named, with exit 2 and nothing written to Git", needsRenderer, async (t) => {
    const fake = await startFakeKube({ simulateControllers: true });
    const s = await Scenario.create();
    const kubeconfig = fake.kubeconfigPath;
    t.after(async () => {
      await s.cleanup();
    });
    const port = await freePort();
    // A kubeconfig that names a port nobody listens on.
    const text = (await readFile(kubeconfig, "utf8")).replace(/http:\/\/127\.0\.0\.1:\d+/, `http://127.0.0.1:${port}`);
    await fake.close();
    const dead = `${s.dir}/dead-kubeconfig`;
    await writeFile(dead, text);
    const before = await s.commit("empty configuration", { "ferry/.keep": "" });

    const result = await s.ferry("bootstrap", "--repo", s.repo, "--kubeconfig", dead, "--write-root", "--timeout", "10s");
    assert.equal(result.code, 2, outputOf(result));
    assert.match(result.stderr, /cannot reach the Kubernetes API server/);
    assert.match(result.stderr, /ECONNREFUSED/);
    assert.equal(await s.head(), before);
  });

  test("an API server that accepts and never answers: --timeout is honoured, and the error names the context and server", needsRenderer, async (t) => {
    const dark = await startDarkServer();
    const s = await Scenario.create();
    t.after(async () => {
      await s.cleanup();
      await dark.close();
    });
    const kubeconfig = await writeKubeconfig(s.dir, dark.url);
    const before = await s.commit("empty configuration", { "ferry/.keep": "" });
    const started = Date.now();
    const result = await s.ferry("bootstrap", "--repo", s.repo, "--kubeconfig", kubeconfig, "--write-root", "--timeout", "2s");
    const took = Date.now() - started;
    assert.equal(result.code, 2, outputOf(result));
    assert.ok(took < scaled(15_000), `bootstrap --timeout 2s took ${took} ms`);
    assert.match(result.stderr, new RegExp(`cannot reach the Kubernetes API server: context "fake" \\(server ${dark.url.replace(/[.:/]/g, "\\$&")}\\): GET /api/v1/namespaces got no answer within 2s`));
    assert.ok(dark.accepted() > 0, "the server was reached, and stayed silent");
    assert.equal(await s.head(), before, "nothing is written to Git");
  });

  test("an API server that refuses (403) is named with exit 2", needsRenderer, async (t) => {
    // A server whose authorizer refuses every request, as a real one does for a user without rights.
    const server = createServer((_req, res) => {
      res.writeHead(403, { "content-type": "application/json" });
      res.end(JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", reason: "Forbidden", code: 403, message: 'namespaces is forbidden: User "dev" cannot list resource "namespaces" in API group "" at the cluster scope' }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const s = await Scenario.create();
    t.after(async () => {
      await s.cleanup();
      await new Promise((resolve) => server.close(resolve));
    });
    const kubeconfig = await writeKubeconfig(s.dir, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    await s.commit("empty configuration", { "ferry/.keep": "" });
    const result = await s.ferry("bootstrap", "--repo", s.repo, "--kubeconfig", kubeconfig, "--timeout", "10s");
    assert.equal(result.code, 2, outputOf(result));
    assert.match(result.stderr, /refused to list namespaces \(403\): namespaces is forbidden: User "dev"/);
    assert.match(result.stderr, /cluster-admin/);
  });

  test("invalid flags are named with exit 2", async (t) => {
    const s = await Scenario.create();
    t.after(() => s.cleanup());
    const badPath = await s.ferry("bootstrap", "--repo", "https://git.acme.test/x.git", "--path", "../up", "--kubeconfig", "/nonexistent");
    assert.equal(badPath.code, 2, outputOf(badPath));
    assert.match(badPath.stderr, /--path: "\.\.\/up"/);
    const badTimeout = await s.ferry("bootstrap", "--repo", "https://git.acme.test/x.git", "--timeout", "soon");
    assert.equal(badTimeout.code, 2, outputOf(badTimeout));
    assert.match(badTimeout.stderr, /--timeout: "soon"/);
    const noKubeconfig = await s.ferry("bootstrap", "--repo", "https://git.acme.test/x.git", "--kubeconfig", `${s.dir}/missing`);
    assert.equal(noKubeconfig.code, 2, outputOf(noKubeconfig));
    assert.match(noKubeconfig.stderr, /--kubeconfig: no such file/);
  });
});
