// What kubectl users do besides apply, against the fake: kubectl create (which
// sends protobuf), kubectl scale (the /scale subresource), deleting the
// namespaces the server keeps, a Namespace's termination, and fields a
// server-side apply stops setting.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import type { FakeKube } from "./index.js";
import { startFakeKube } from "./index.js";
import type { JsonObject } from "./types.js";

const KUBECTL = "/usr/bin/kubectl";
const skip = existsSync(KUBECTL) ? false : `kubectl is not installed at ${KUBECTL}; .ci/run installs it with apt-get install kubernetes-client`;

function run(fake: FakeKube, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(KUBECTL, ["--kubeconfig", fake.kubeconfigPath, "--request-timeout=20s", ...args], { encoding: "utf8", timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

const field = (obj: JsonObject | undefined, ...path: string[]): unknown => path.reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as JsonObject)[k] : undefined), obj);

describe("fake kube-apiserver: what kubectl users touch", { skip }, () => {
  let fake: FakeKube;
  let dir: string;
  before(async () => {
    fake = await startFakeKube();
    dir = await mkdtemp(join(tmpdir(), "ferry-kubectl-writes-"));
  });
  after(async () => {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("kubectl create namespace, configmap, secret and deployment (protobuf bodies) create what they say", async () => {
    for (const args of [
      ["create", "namespace", "shop"],
      ["create", "configmap", "settings", "-n", "shop", "--from-literal=color=blue"],
      ["create", "secret", "generic", "token", "-n", "shop", "--from-literal=token=s3cr3t"],
      ["create", "deployment", "web", "-n", "shop", "--image=nginx:1.27", "--replicas=2", "--port=80"],
    ]) {
      const result = await run(fake, args);
      assert.equal(result.code, 0, `kubectl ${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stdout, / created$/m);
    }
    assert.equal(field(fake.get("v1", "Namespace", undefined, "shop"), "status", "phase"), "Active");
    assert.deepEqual(fake.get("v1", "ConfigMap", "shop", "settings")?.["data"], { color: "blue" });
    assert.deepEqual(fake.get("v1", "Secret", "shop", "token")?.["data"], { token: Buffer.from("s3cr3t").toString("base64") });
    const web = fake.get("apps/v1", "Deployment", "shop", "web");
    assert.equal(field(web, "spec", "replicas"), 2);
    assert.deepEqual(field(web, "spec", "selector"), { matchLabels: { app: "web" } });
    const container = (field(web, "spec", "template", "spec", "containers") as JsonObject[])[0];
    assert.equal(container?.["image"], "nginx:1.27");
    assert.deepEqual(container?.["ports"], [{ containerPort: 80, protocol: "TCP" }]);
    const again = await run(fake, ["create", "namespace", "shop"]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /namespaces "shop" already exists/);
  });

  it("kubectl scale goes through /scale: spec.replicas changes, owned by kubectl with subresource scale", async () => {
    const scaled = await run(fake, ["scale", "deployment", "web", "-n", "shop", "--replicas=5"]);
    assert.equal(scaled.code, 0, scaled.stderr);
    const web = fake.get("apps/v1", "Deployment", "shop", "web");
    assert.equal(field(web, "spec", "replicas"), 5);
    const managers = (field(web, "metadata", "managedFields") as JsonObject[]).map((m) => `${String(m["manager"])}/${String(m["operation"])}/${String(m["subresource"] ?? "")}`);
    assert.ok(managers.includes("kubectl/Update/scale"), managers.join(", "));
    const scale = await run(fake, ["get", "deployment", "web", "-n", "shop", "--subresource=scale", "-o", "json"]);
    assert.equal(scale.code, 0, scale.stderr);
    const body = JSON.parse(scale.stdout) as JsonObject;
    assert.equal(body["kind"], "Scale");
    assert.equal(field(body, "spec", "replicas"), 5);
    assert.equal(field(body, "status", "selector"), "app=web");
  });

  it("refuses to delete default, kube-system and kube-public", async () => {
    for (const name of ["default", "kube-system", "kube-public"]) {
      const result = await run(fake, ["delete", "namespace", name]);
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, new RegExp(`Error from server \\(Forbidden\\): namespaces "${name}" is forbidden: this namespace may not be deleted`));
      assert.ok(fake.get("v1", "Namespace", undefined, name));
    }
  });

  it("a deleted Namespace is Terminating until its contents are gone, then goes", async () => {
    await run(fake, ["create", "namespace", "old"]);
    await run(fake, ["create", "configmap", "free", "-n", "old"]);
    await run(fake, ["create", "configmap", "held", "-n", "old"]);
    const patched = await run(fake, ["patch", "configmap", "held", "-n", "old", "--type=merge", "-p", '{"metadata":{"finalizers":["acme.test/hold"]}}']);
    assert.equal(patched.code, 0, patched.stderr);
    const deleted = await run(fake, ["delete", "namespace", "old", "--wait=false"]);
    assert.equal(deleted.code, 0, deleted.stderr);
    await fake.settled();
    const ns = fake.get("v1", "Namespace", undefined, "old");
    assert.equal(field(ns, "status", "phase"), "Terminating");
    assert.ok(field(ns, "metadata", "deletionTimestamp"));
    assert.equal(fake.get("v1", "ConfigMap", "old", "free"), undefined, "its contents are deleted");
    assert.ok(field(fake.get("v1", "ConfigMap", "old", "held"), "metadata", "deletionTimestamp"), "an object with a finalizer waits for it");
    const refused = await run(fake, ["create", "configmap", "late", "-n", "old"]);
    assert.match(refused.stderr, /unable to create new content in namespace old because it is being terminated/);
    await run(fake, ["patch", "configmap", "held", "-n", "old", "--type=merge", "-p", '{"metadata":{"finalizers":null}}']);
    await fake.settled();
    assert.equal(fake.get("v1", "ConfigMap", "old", "held"), undefined);
    assert.equal(fake.get("v1", "Namespace", undefined, "old"), undefined, "the Namespace goes once it is empty");
  });

  it("a field a server-side apply stops setting disappears, with no [] or {} left behind", async () => {
    const manifest = (extra: string): string =>
      `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api}}\n    spec:\n      containers:\n      - name: api\n        image: api:1\n${extra}`;
    await writeFile(join(dir, "api.yaml"), manifest("        env: [{name: A, value: b}]\n        args: [serve]\n        securityContext: {runAsNonRoot: true}\n"));
    assert.equal((await run(fake, ["apply", "--server-side", "-f", join(dir, "api.yaml")])).code, 0);
    await writeFile(join(dir, "api.yaml"), manifest(""));
    const second = await run(fake, ["apply", "--server-side", "-f", join(dir, "api.yaml")]);
    assert.equal(second.code, 0, second.stderr);
    const container = (field(fake.get("apps/v1", "Deployment", "shop", "api"), "spec", "template", "spec", "containers") as JsonObject[])[0] ?? {};
    for (const key of ["env", "args", "securityContext"]) assert.ok(!(key in container), `${key} is gone: ${JSON.stringify(container)}`);
  });
});
