import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { stringify } from "yaml";
import { FerryError } from "../../core/errors.js";
import { startConnectProxy } from "../../../test/support/connect-proxy.js";
import { startDarkServer } from "../../../test/support/dark-server.js";
import type { FakeKube } from "../../../test/support/kube-fake/index.js";
import { startFakeKube } from "../../../test/support/kube-fake/index.js";
import { KubeClient } from "./kube-client.js";

/** A kubeconfig with one context "edge" on `server`, through `proxyUrl` when given. */
function kubeconfig(server: string, proxyUrl?: string): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "edge", cluster: { server, "insecure-skip-tls-verify": true, ...(proxyUrl ? { "proxy-url": proxyUrl } : {}) } }],
    users: [{ name: "edge", user: { token: "t" } }],
    contexts: [{ name: "edge", context: { cluster: "edge", user: "edge" } }],
    "current-context": "edge",
  });
}

describe("KubeClient against slow, silent and proxied servers", () => {
  let dir = "";
  let fake: FakeKube;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "ferry-kube-client-"));
    fake = await startFakeKube();
  });
  after(async () => {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("a server that accepts and never answers fails the request in time, naming the context, the server and the request", async () => {
    const dark = await startDarkServer();
    const file = path.join(dir, "dark");
    await writeFile(file, kubeconfig(dark.url));
    const client = new KubeClient({ files: [file], context: "edge" }, { requestTimeoutMs: 300 });
    const started = Date.now();
    try {
      await assert.rejects(client.request({ method: "GET", path: "/api/v1/namespaces" }), (error: unknown) => {
        assert.ok(error instanceof FerryError);
        assert.equal(error.disposition, "transient");
        assert.equal(error.reason, "ClusterTimeout");
        assert.equal(error.message, `context "edge" (server ${dark.url}): GET /api/v1/namespaces got no answer within 0.3s`);
        return true;
      });
      assert.ok(Date.now() - started < 5000, `gave up after ${Date.now() - started} ms`);
    } finally {
      client.close();
      await dark.close();
    }
  });

  it("a watch that goes silent is given up, so the cache opens it again", async () => {
    // Answers a watch with its headers, then nothing: a connection that died without closing.
    const server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.flushHeaders();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const file = path.join(dir, "silent");
    await writeFile(file, kubeconfig(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
    const client = new KubeClient({ files: [file], context: "edge" }, { watchIdleMs: 200 });
    try {
      await assert.rejects(client.watch("/api/v1/configmaps", {}, () => undefined, new AbortController().signal), /^FerryError: context "edge" \(server http:\/\/127\.0\.0\.1:\d+\): GET \/api\/v1\/configmaps failed: silent for 0\.2s$/);
    } finally {
      client.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("goes through the kubeconfig's proxy-url with HTTP CONNECT", async () => {
    const proxy = await startConnectProxy();
    const file = path.join(dir, "proxied");
    await writeFile(file, kubeconfig(fake.url, proxy.url));
    const client = new KubeClient({ files: [file], context: "edge" });
    try {
      const res = await client.request({ method: "GET", path: "/api/v1/namespaces/default" });
      assert.equal(res.status, 200);
      assert.deepEqual(proxy.tunnels, [fake.url.replace("http://", "")], "one tunnel to the API server, kept alive");
    } finally {
      client.close();
      await proxy.close();
    }
  });

  it("reads a changed kubeconfig again without being restarted", async () => {
    const dark = await startDarkServer();
    const file = path.join(dir, "rotated");
    await writeFile(file, kubeconfig(dark.url));
    const client = new KubeClient({ files: [file], context: "edge" }, { requestTimeoutMs: 300, reloadCheckMs: 0 });
    try {
      await assert.rejects(client.request({ method: "GET", path: "/api/v1/namespaces/default" }), /got no answer/);
      // The cluster moved (or its certificate or token was rotated): the file is rewritten.
      await writeFile(file, `${kubeconfig(fake.url)}\n# rotated\n`);
      const res = await client.request({ method: "GET", path: "/api/v1/namespaces/default" });
      assert.equal(res.status, 200);
      assert.match(client.cluster, new RegExp(`server ${fake.url.replace(/[.:/]/g, "\\$&")}`));
    } finally {
      client.close();
      await dark.close();
    }
  });

  it("reads a kubeconfig with a CA, a token file relative to it, and TLS verified, without the client library", { skip: hasOpenssl() ? false : "openssl is not installed: cannot make the test certificate" }, async () => {
    const key = path.join(dir, "server-key.pem");
    const cert = path.join(dir, "server-cert.pem");
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert], { stdio: "ignore" });
    const seen: string[] = [];
    const server = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
      seen.push(req.headers.authorization ?? "");
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ kind: "Namespace", metadata: { name: "default" } }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    await mkdir(path.join(dir, "tls", "creds"), { recursive: true });
    await writeFile(path.join(dir, "tls", "creds", "token"), "file-token\n");
    const file = path.join(dir, "tls", "config");
    await writeFile(
      file,
      stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "edge", cluster: { server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, "certificate-authority-data": readFileSync(cert).toString("base64") } }],
        users: [{ name: "edge", user: { tokenFile: "creds/token" } }],
        contexts: [{ name: "edge", context: { cluster: "edge", user: "edge" } }],
        "current-context": "edge",
      }),
    );
    const client = new KubeClient({ files: [file] });
    try {
      const res = await client.request({ method: "GET", path: "/api/v1/namespaces/default" });
      assert.equal(res.status, 200);
      assert.deepEqual(seen, ["Bearer file-token"]);
    } finally {
      client.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

function hasOpenssl(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
