import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AgentClient } from "../cli/client.js";
import { TestRepository } from "../../test/support/test-repository.js";
import { applicationYaml, startTestAgent } from "../../test/support/agent-test-support.js";
import type { AgentInfo } from "./state-dir.js";

const APPS = applicationYaml("notes");
const NOTE = `apiVersion: host.ferry.dev/v1
kind: File
metadata:
  name: note
spec:
  path: note.txt
  content: "one"
`;

function hasOpenssl(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** GET over HTTPS trusting only `ca`; resolves with status and body. */
function httpsGet(url: string, ca: Buffer, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, servername: "localhost", headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** A plain HTTP GET; resolves with the status, or the error the connection ended with. */
function plainGet(url: string): Promise<{ status?: number; error?: string }> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { timeout: 10_000 }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0 });
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", (error) => resolve({ error: error.message }));
    req.end();
  });
}

const skip = hasOpenssl() ? false : "openssl is not installed: cannot make the test certificate";

describe("the control API over TLS", { skip }, () => {
  let repo: TestRepository;
  let work: string;
  let info: AgentInfo;
  let stop: () => Promise<void>;
  let cert: Buffer;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), "ferry-tls-"));
    const certFile = join(work, "cert.pem");
    const keyFile = join(work, "key.pem");
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
      "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "-keyout", keyFile, "-out", certFile,
    ], { stdio: "ignore" });
    cert = await readFile(certFile);
    repo = await TestRepository.create();
    await repo.commit({ "ferry/apps.yaml": APPS, "apps/notes/note.yaml": NOTE });
    ({ info, stop } = await startTestAgent(repo, work, { tls: { certFile, keyFile } }));
  });

  after(() => stop());

  it("serves the API over HTTPS with the given certificate", async () => {
    assert.match(info.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await httpsGet(`${info.url}/api/v1/applications`, cert, info.token);
    assert.equal(res.status, 200);
    assert.deepEqual((JSON.parse(res.body) as { applications: { name: string }[] }).applications.map((a) => a.name), ["notes"]);
    assert.equal((await httpsGet(`${info.url}/api/v1/applications`, cert, "wrong")).status, 401);
  });

  it("does not answer plain HTTP on that port", async () => {
    const res = await plainGet(`${info.url.replace(/^https:/, "http:")}/healthz`);
    assert.equal(res.status === 200, false, `plain HTTP must not be served, got ${JSON.stringify(res)}`);
  });

  it("lets the CLI's client in through the certificate named in agent.json", async () => {
    assert.equal(info.tlsCertFile, join(work, "cert.pem"));
    const client = new AgentClient(info);
    assert.deepEqual((await client.applications()).applications.map((a) => a.name), ["notes"]);
  });

  it("refuses a server whose certificate is not the pinned one", async () => {
    const otherCert = join(work, "other.pem");
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout", join(work, "other-key.pem"), "-out", otherCert], { stdio: "ignore" });
    const client = new AgentClient({ ...info, tlsCertFile: otherCert });
    await assert.rejects(client.applications(), /certificate is not the one in/);
  });
});
