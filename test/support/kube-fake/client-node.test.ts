// The fake as @kubernetes/client-node sees it: the same client the Kubernetes target uses.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { KubernetesObject } from "@kubernetes/client-node";
import { ApiException, KubeConfig, KubernetesObjectApi, PatchStrategy, Watch } from "@kubernetes/client-node";
import type { FakeKube } from "./index.js";
import { startFakeKube } from "./index.js";
import { deployment } from "./test-http.js";

type Obj = KubernetesObject & { spec?: Record<string, unknown>; data?: Record<string, string>; status?: Record<string, unknown> };

async function failure(promise: Promise<unknown>): Promise<{ code: number; body: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ApiException, `expected an ApiException, got ${String(error)}`);
    const body = typeof error.body === "string" ? (JSON.parse(error.body) as Record<string, unknown>) : (error.body as Record<string, unknown>);
    return { code: error.code, body };
  }
  assert.fail("the request succeeded");
}

describe("fake kube-apiserver through @kubernetes/client-node", () => {
  let fake: FakeKube;
  let config: KubeConfig;
  let client: KubernetesObjectApi;
  before(async () => {
    fake = await startFakeKube();
    config = new KubeConfig();
    config.loadFromFile(fake.kubeconfigPath);
    client = KubernetesObjectApi.makeApiClient(config);
  });
  after(() => fake.close());

  it("loads the kubeconfig's context and server", () => {
    assert.equal(config.getCurrentContext(), "fake");
    assert.equal(config.getCurrentCluster()?.server, fake.url);
  });

  it("applies server-side, reads back, and a second identical apply writes nothing", async () => {
    const desired = { ...deployment("cn-web", "nginx:1", 2), metadata: { name: "cn-web", namespace: "default", labels: { app: "cn" } } } as Obj;
    const created = await client.patch<Obj>(desired, undefined, undefined, "ferry", false, PatchStrategy.ServerSideApply);
    assert.equal(created.metadata?.generation, 1);
    assert.equal(created.metadata?.managedFields?.[0]?.manager, "ferry");
    const read = await client.read<Obj>({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "cn-web", namespace: "default" } });
    assert.equal(read.spec?.["replicas"], 2);
    await fake.settled();
    fake.stats.reset();
    await client.patch<Obj>(desired, undefined, undefined, "ferry", false, PatchStrategy.ServerSideApply);
    assert.equal(fake.stats.writes, 0);
    assert.equal(fake.stats.byVerb["patch"], 1);
  });

  it("dry-run apply through the client stores nothing", async () => {
    const desired = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cn-dry", namespace: "default" }, data: { a: "1" } } as Obj;
    const dry = await client.patch<Obj>(desired, undefined, "All", "ferry", false, PatchStrategy.ServerSideApply);
    assert.deepEqual(dry.data, { a: "1" });
    assert.equal(fake.get("v1", "ConfigMap", "default", "cn-dry"), undefined);
  });

  it("reports a field conflict as an ApiException 409 whose body is the Status", async () => {
    fake.edit("apps/v1", "Deployment", "default", "cn-web", (d) => {
      (d["spec"] as Record<string, unknown>)["replicas"] = 4;
    }, "hpa");
    const desired = { ...deployment("cn-web", "nginx:1", 2), metadata: { name: "cn-web", namespace: "default", labels: { app: "cn" } } } as Obj;
    const refused = await failure(client.patch<Obj>(desired, undefined, undefined, "ferry", false, PatchStrategy.ServerSideApply));
    assert.equal(refused.code, 409);
    assert.equal(refused.body["reason"], "Conflict");
    assert.match(String(refused.body["message"]), /conflict with "hpa" using apps\/v1: \.spec\.replicas/);
    const forced = await client.patch<Obj>(desired, undefined, undefined, "ferry", true, PatchStrategy.ServerSideApply);
    assert.equal(forced.spec?.["replicas"], 2);
  });

  it("lists by label selector, merge-patches and deletes", async () => {
    for (const name of ["cn-a", "cn-b"]) {
      await client.create<Obj>({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "default", labels: { owner: "ferry" } }, data: {} } as Obj);
    }
    const list = await client.list<Obj>("v1", "ConfigMap", "default", undefined, undefined, undefined, undefined, "owner=ferry");
    assert.deepEqual(list.items.map((i) => i.metadata?.name), ["cn-a", "cn-b"]);
    const patched = await client.patch<Obj>({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cn-a", namespace: "default" }, data: { k: "v" } } as Obj, undefined, undefined, "ferry", undefined, PatchStrategy.MergePatch);
    assert.deepEqual(patched.data, { k: "v" });
    await client.delete({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cn-b", namespace: "default" } });
    const missing = await failure(client.read({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cn-b", namespace: "default" } }));
    assert.equal(missing.code, 404);
    const duplicate = await failure(client.create<Obj>({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cn-a", namespace: "default" } } as Obj));
    assert.equal(duplicate.code, 409);
    assert.equal(duplicate.body["reason"], "AlreadyExists");
  });

  it("watches with a label selector through the client's Watch", async () => {
    const seen: string[] = [];
    let resolveSeen: () => void = () => undefined;
    const enough = new Promise<void>((resolve) => (resolveSeen = resolve));
    const watch = new Watch(config);
    const controller = await watch.watch(
      "/api/v1/namespaces/default/configmaps",
      { labelSelector: "owner=ferry" },
      (phase, obj: Obj) => {
        seen.push(`${phase} ${obj.metadata?.name ?? ""}`);
        if (seen.length >= 3) resolveSeen();
      },
      () => undefined,
    );
    try {
      await client.patch<Obj>({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cn-a", namespace: "default" }, data: { k: "w" } } as Obj, undefined, undefined, "ferry", undefined, PatchStrategy.MergePatch);
      await client.delete({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cn-a", namespace: "default" } });
      await Promise.race([enough, new Promise((_, reject) => setTimeout(() => reject(new Error(`watch saw only ${seen.join(", ")}`)), 10_000))]);
      assert.deepEqual(seen, ["ADDED cn-a", "MODIFIED cn-a", "DELETED cn-a"]);
    } finally {
      controller.abort();
    }
  });
});
