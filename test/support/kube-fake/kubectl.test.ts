// kubectl against the fake, through the kubeconfig it writes: what a person
// debugging a test (or the Kubernetes target's own tools) would run.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { existsSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import type { FakeKube } from "./index.js";
import { startFakeKube } from "./index.js";
import type { JsonObject } from "./types.js";

function findKubectl(): string | undefined {
  for (const dir of (process.env["PATH"] ?? "").split(delimiter)) {
    const candidate = join(dir, "kubectl");
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

const kubectl = findKubectl();
const skip = kubectl ? false : "kubectl is not installed; .ci/run installs it with apt-get install kubernetes-client";
if (!kubectl) console.log(`skipping kubectl tests: ${String(skip)}`);

/** Runs kubectl asynchronously: the fake serves from this same process, so a blocking call would deadlock. */
function run(fake: FakeKube, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(kubectl ?? "kubectl", ["--kubeconfig", fake.kubeconfigPath, "--request-timeout=20s", ...args], { encoding: "utf8", timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

const MANIFEST = `apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
data:
  color: blue
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - containerPort: 80
`;

describe("fake kube-apiserver through kubectl", { skip }, () => {
  let fake: FakeKube;
  let dir: string;
  before(async () => {
    fake = await startFakeKube();
    dir = await mkdtemp(join(tmpdir(), "ferry-kubectl-"));
    await writeFile(join(dir, "app.yaml"), MANIFEST);
  });
  after(async () => {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("kubectl apply --server-side creates the objects, and kubectl get -o json reads them back", async () => {
    const applied = await run(fake, ["apply", "--server-side", "-f", join(dir, "app.yaml")]);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /deployment\.apps\/web serverside-applied/);
    await fake.settled();
    const got = await run(fake, ["get", "-n", "shop", "deployment", "web", "-o", "json"]);
    assert.equal(got.code, 0, got.stderr);
    const deployment = JSON.parse(got.stdout) as JsonObject;
    assert.equal((deployment["spec"] as JsonObject)["replicas"], 2);
    assert.equal((deployment["status"] as JsonObject)["readyReplicas"], 2);
    const live = fake.get("apps/v1", "Deployment", "shop", "web");
    const managers = ((live?.["metadata"] as JsonObject)["managedFields"] as JsonObject[]).map((m) => `${String(m["manager"])}/${String(m["operation"])}`);
    assert.ok(managers.includes("kubectl/Apply"), managers.join(", "));
  });

  it("kubectl reports a conflict with another manager, and --force-conflicts takes the field", async () => {
    fake.edit("apps/v1", "Deployment", "shop", "web", (d) => {
      (d["spec"] as JsonObject)["replicas"] = 5;
    });
    const refused = await run(fake, ["apply", "--server-side", "-f", join(dir, "app.yaml")]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /conflict with "kubectl-edit"/);
    assert.match(refused.stderr, /\.spec\.replicas/);
    const forced = await run(fake, ["apply", "--server-side", "--force-conflicts", "-f", join(dir, "app.yaml")]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal((fake.get("apps/v1", "Deployment", "shop", "web")?.["spec"] as JsonObject)["replicas"], 2);
  });

  it("kubectl get lists with a label selector and kubectl delete removes an object", async () => {
    const listed = await run(fake, ["get", "configmaps", "-n", "shop", "-o", "json"]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(((JSON.parse(listed.stdout) as JsonObject)["items"] as { metadata: { name: string } }[]).map((i) => i.metadata.name), ["settings"]);
    const deleted = await run(fake, ["delete", "configmap", "settings", "-n", "shop"]);
    assert.equal(deleted.code, 0, deleted.stderr);
    const missing = await run(fake, ["get", "configmap", "settings", "-n", "shop"]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /NotFound|not found/);
  });
});
