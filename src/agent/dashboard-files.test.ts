import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import type { Server } from "node:http";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isDashboardPath, serveDashboardFile } from "./dashboard-files.js";

/** A GET with the path sent exactly as written (fetch would normalize `..` away). */
function rawGet(port: number, path: string, method = "GET"): Promise<{ status: number; type: string; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"]), body, headers: res.headers }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the dashboard's files", () => {
  let work: string;
  let built: string;
  let server: Server;
  let port: number;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), "ferry-dashboard-files-"));
    built = join(work, "dashboard");
    await mkdir(join(built, "assets"), { recursive: true });
    await writeFile(join(built, "index.html"), "<!doctype html><title>Ferry</title>");
    await writeFile(join(built, "assets", "index-abc123.js"), "console.log('ferry')");
    await writeFile(join(built, "assets", "index-abc123.css"), "body{}");
    await writeFile(join(work, "secret.txt"), "not for the web");
    server = createServer((req, res) => {
      // The raw path, as the control server hands it over after URL parsing.
      const pathname = new URL(req.url ?? "/", "http://localhost").pathname;
      if (!isDashboardPath(pathname)) return void res.writeHead(418).end();
      void serveDashboardFile(built, req.method ?? "GET", pathname, res);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(work, { recursive: true, force: true });
  });

  it("serves the page at / and the assets with their content types and a strict policy", async () => {
    const page = await rawGet(port, "/");
    assert.equal(page.status, 200);
    assert.equal(page.type, "text/html; charset=utf-8");
    assert.match(page.body, /<title>Ferry<\/title>/);
    assert.match(String(page.headers["content-security-policy"]), /default-src 'none'; script-src 'self'/);
    assert.equal(page.headers["cache-control"], "no-cache");
    const script = await rawGet(port, "/assets/index-abc123.js");
    assert.equal(script.type, "text/javascript; charset=utf-8");
    assert.equal(script.headers["cache-control"], "public, max-age=31536000, immutable");
    assert.equal((await rawGet(port, "/assets/index-abc123.css")).type, "text/css; charset=utf-8");
    const head = await rawGet(port, "/", "HEAD");
    assert.equal(head.status, 200);
    assert.equal(head.body, "");
    assert.equal((await rawGet(port, "/", "POST")).status, 405);
  });

  it("never serves a file outside the built dashboard", async () => {
    for (const path of [
      "/assets/../secret.txt",
      "/assets/../../secret.txt",
      "/assets/%2e%2e/%2e%2e/secret.txt",
      "/assets/..%2f..%2fsecret.txt",
      "/assets/..%5c..%5csecret.txt",
      "/assets/%2fetc%2fpasswd",
      "/assets//etc/passwd",
      "/assets/.hidden",
      "/assets/%00index-abc123.js",
      "/assets/%E0%A4%A",
      "/assets/",
      "/assets/missing.js",
    ]) {
      const res = await rawGet(port, path);
      if (res.status === 418) continue; // normalized by URL parsing to a path that is not the dashboard's
      assert.equal(res.status, 404, `${path} answered ${res.status}: ${res.body}`);
      assert.doesNotMatch(res.body, /not for the web/);
    }
  });

  it("says how to build the dashboard when it was not built", async () => {
    const res = await new Promise<{ status: number; body: string }>((resolve) => {
      const fake = { writeHead: (status: number) => ({ status }), end: (body: string) => resolve({ status: 404, body }) };
      void serveDashboardFile(join(work, "nowhere"), "GET", "/", fake as never);
    });
    assert.match(res.body, /the dashboard was not built .*run npm run build/);
  });
});
