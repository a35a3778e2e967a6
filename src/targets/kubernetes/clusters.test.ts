import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { stringify } from "yaml";
import { startFakeKube } from "../../../test/support/kube-fake/index.js";
import type { FakeKube } from "../../../test/support/kube-fake/index.js";
import { clientOptionsFor, loadClusters, parseKubeTimeouts } from "./clusters.js";
import { KubeClient } from "./kube-client.js";

/** A kubeconfig with one context per entry, each with its own cluster and user. */
function kubeconfig(contexts: Readonly<Record<string, string>>, current?: string): string {
  const names = Object.keys(contexts);
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: names.map((name) => ({ name, cluster: { server: contexts[name], "insecure-skip-tls-verify": true } })),
    users: names.map((name) => ({ name, user: { token: `token-${name}` } })),
    contexts: names.map((name) => ({ name, context: { cluster: name, user: name, namespace: "default" } })),
    ...(current !== undefined ? { "current-context": current } : {}),
  });
}

describe("clusters from several kubeconfig files ($KUBECONFIG)", () => {
  let dir: string;
  let fake: FakeKube;
  let first: string;
  let second: string;
  const nowhere = "http://127.0.0.1:9";

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "ferry-kubeconfig-"));
    fake = await startFakeKube();
    first = path.join(dir, "first");
    second = path.join(dir, "second");
    // "shared" is in both files: the first file's (a server nobody listens on) wins, as with kubectl.
    await writeFile(first, kubeconfig({ staging: nowhere, shared: nowhere }));
    await writeFile(second, kubeconfig({ prod: fake.url, shared: fake.url }, "prod"));
  });

  after(async () => {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("every context of every file is a target; the current context is the first one set; missing files are skipped", () => {
    const env = { KUBECONFIG: [path.join(dir, "missing"), first, second].join(path.delimiter) };
    const clusters = loadClusters({}, env);
    assert.deepEqual(
      clusters.map((c) => c.targetName),
      ["kubernetes", "kubernetes@staging", "kubernetes@shared", "kubernetes@prod"],
    );
    assert.deepEqual(clusters[0]?.source, { files: [first, second], context: "prod" });
    assert.throws(() => loadClusters({ context: "qa" }, env), /--context: .* has no context "qa" \(it has: staging, shared, prod\)/);
  });

  it("a client reaches a context defined in the second file, and a name in both files means the first file's", async () => {
    const prod = new KubeClient({ files: [first, second], context: "prod" });
    const shared = new KubeClient({ files: [first, second], context: "shared" });
    try {
      const res = await prod.request({ method: "GET", path: "/api/v1/namespaces/default" });
      assert.equal(res.status, 200);
      await assert.rejects(shared.request({ method: "GET", path: "/api/v1/namespaces/default" }), /ECONNREFUSED|connect/);
    } finally {
      prod.close();
      shared.close();
    }
  });
});

describe("--kube-timeout", () => {
  it("sets the request timeout of every context and of one, with a connect timeout no longer", () => {
    const timeouts = parseKubeTimeouts("20s, far-away=2m");
    assert.deepEqual(clientOptionsFor(timeouts, "near"), { requestTimeoutMs: 20_000, connectTimeoutMs: 10_000 });
    assert.deepEqual(clientOptionsFor(timeouts, "far-away"), { requestTimeoutMs: 120_000, connectTimeoutMs: 10_000 });
    assert.deepEqual(clientOptionsFor(parseKubeTimeouts("2s"), "near"), { requestTimeoutMs: 2_000, connectTimeoutMs: 2_000 });
    assert.deepEqual(clientOptionsFor(undefined, "near"), {}, "the defaults: 30 s, connect 10 s");
  });

  it("refuses what is not [<context>=]<duration> of at least a second, naming the entry", () => {
    assert.throws(() => parseKubeTimeouts("soon"), /--kube-timeout: "soon" is not \[<context>=\]<duration>/);
    assert.throws(() => parseKubeTimeouts("prod=10ms"), /"prod=10ms"/);
    assert.throws(() => parseKubeTimeouts("=5s"), /"=5s" names no context/);
  });
});
