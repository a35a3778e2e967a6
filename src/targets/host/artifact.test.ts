import assert from "node:assert/strict";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { test } from "node:test";
import { FerryError } from "../../core/errors.js";
import { watchSpecSchema } from "../../watch/watch-spec.js";
import { createWatcher } from "../../watch/watcher.js";
import type { JsonObject } from "../../core/json.js";
import { directoryDigest } from "./artifact-tree.js";
import { ARTIFACTS_KEPT } from "./artifact-cache.js";
import type { HostSandbox } from "../../../test/support/host-test-support.js";
import { createSandbox, hostObject, pidAlive, waitFor } from "../../../test/support/host-test-support.js";
import { makeTarGz, sha256Of } from "../../../test/support/tar-test-support.js";

/** The program inside each artifact: reports its version, working directory and $FERRY_ARTIFACT_DIR, then stays up. */
const SERVER = `
const fs = require("fs");
const report = { version: fs.readFileSync(__dirname + "/VERSION", "utf8").trim(), cwd: process.cwd(), artifactDir: process.env.FERRY_ARTIFACT_DIR, pid: process.pid };
fs.writeFileSync(process.argv[2] + ".tmp", JSON.stringify(report));
fs.renameSync(process.argv[2] + ".tmp", process.argv[2]);
setInterval(() => {}, 60000);
`;

interface Report {
  readonly version: string;
  readonly cwd: string;
  readonly artifactDir?: string;
  readonly pid: number;
}

/** Publishes version `version` of the service as a .tar.gz in the sandbox and returns its path and digest. */
async function publish(sandbox: HostSandbox, version: string): Promise<{ url: string; digest: string }> {
  const archive = makeTarGz([
    { name: "app/", type: "5" },
    { name: "app/server.js", content: SERVER },
    { name: "app/VERSION", content: `${version}\n` },
  ]);
  const dir = path.join(sandbox.base, "published");
  await mkdir(dir, { recursive: true });
  const url = path.join(dir, `web-${version}.tar.gz`);
  await writeFile(url, archive);
  return { url, digest: sha256Of(archive) };
}

function service(sandbox: HostSandbox, artifact: { url: string; digest: string }, extra: JsonObject = {}): ReturnType<typeof hostObject> {
  return hostObject("Service", "web", {
    command: process.execPath,
    args: ["app/server.js", path.join(sandbox.base, "report.json")],
    artifact,
    stop: { gracePeriodSeconds: 5 },
    ...extra,
  });
}

async function reportOf(sandbox: HostSandbox, notPid?: number): Promise<Report> {
  return waitFor("the service's report", async () => {
    const text = await readFile(path.join(sandbox.base, "report.json"), "utf8").catch(() => undefined);
    const report = text === undefined ? undefined : (JSON.parse(text) as Report);
    return report !== undefined && report.pid !== notPid && report;
  });
}

function stalledWith(reason: string, ...patterns: RegExp[]): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof FerryError, String(error));
    assert.equal(error.disposition, "stalled");
    assert.equal(error.reason, reason);
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  };
}

async function unpacked(sandbox: HostSandbox): Promise<string[]> {
  return (await readdir(path.join(sandbox.stateDir, "artifacts")).catch(() => [] as string[])).sort();
}

test("a service runs from its artifact, unpacked under the state directory by digest, as its working directory", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const target = sandbox.target();
  const v1 = await publish(sandbox, "1.0.0");
  const object = service(sandbox, v1);

  assert.equal(await target.apply(object, sandbox.context), "created");
  const report = await reportOf(sandbox);
  const dir = path.join(sandbox.stateDir, "artifacts", v1.digest.slice("sha256:".length));
  assert.deepEqual({ version: report.version, cwd: report.cwd, artifactDir: report.artifactDir }, { version: "1.0.0", cwd: dir, artifactDir: dir });
  assert.equal(await target.apply(object, sandbox.context), "unchanged");
  const live = (await target.read([object.key])).get(object.key);
  assert.deepEqual(live?.state["artifact"], v1);
  assert.deepEqual((await target.health([object.key])).get(object.key)?.status, "Healthy");
});

test("a new artifact version replaces the process; a digest mismatch and a hostile archive leave the old one running", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const target = sandbox.target();
  const v1 = await publish(sandbox, "1.0.0");
  const v2 = await publish(sandbox, "2.0.0");
  await target.apply(service(sandbox, v1), sandbox.context);
  const first = await reportOf(sandbox);

  assert.equal(await target.apply(service(sandbox, v2), sandbox.context), "configured");
  const second = await reportOf(sandbox, first.pid);
  assert.equal(second.version, "2.0.0");
  await waitFor("the 1.0.0 process to end", () => !pidAlive(first.pid));

  // Version 3 is published, but the digest in Git is not its digest.
  const v3 = await publish(sandbox, "3.0.0");
  const claimed = sha256Of("something else");
  await assert.rejects(
    target.apply(service(sandbox, { url: v3.url, digest: claimed }), sandbox.context),
    stalledWith("ArtifactDigestMismatch", /spec\.artifact\.digest: /, new RegExp(`has digest ${v3.digest}, not ${claimed}`), /nothing was unpacked or replaced/),
  );
  assert.ok(pidAlive(second.pid), "the 2.0.0 process keeps running");
  assert.equal((await reportOf(sandbox)).pid, second.pid);
  assert.ok(!(await unpacked(sandbox)).includes(claimed.slice("sha256:".length)));

  // A hostile archive with the right digest: refused before anything runs from it.
  const hostile = makeTarGz([
    { name: "app/server.js", content: SERVER },
    { name: "../../escaped.txt", content: "owned" },
  ]);
  const hostileUrl = path.join(sandbox.base, "published", "web-4.0.0.tar.gz");
  await writeFile(hostileUrl, hostile);
  await assert.rejects(
    target.apply(service(sandbox, { url: hostileUrl, digest: sha256Of(hostile) }), sandbox.context),
    stalledWith("ArtifactUnsafe", /spec\.artifact\.url: /, /refused: entry "\.\.\/\.\.\/escaped\.txt" climbs out of the archive/),
  );
  assert.ok(pidAlive(second.pid), "the 2.0.0 process still runs");
  await assert.rejects(readFile(path.join(sandbox.stateDir, "escaped.txt")));
  await assert.rejects(readFile(path.join(sandbox.stateDir, "artifacts", "escaped.txt")));
  assert.deepEqual((await unpacked(sandbox)).filter((name) => name.startsWith(".")), [], "no temporary directory is left");
});

test("with workingDir set the process runs there and finds its artifact in $FERRY_ARTIFACT_DIR", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const target = sandbox.target();
  await mkdir(path.join(sandbox.root, "data"), { recursive: true });
  const v1 = await publish(sandbox, "1.0.0");
  const dir = path.join(sandbox.stateDir, "artifacts", v1.digest.slice("sha256:".length));
  await target.apply(
    service(sandbox, v1, { workingDir: "data", args: [path.join(dir, "app/server.js"), path.join(sandbox.base, "report.json")], env: { FERRY_ARTIFACT_DIR: "ignored" } }),
    sandbox.context,
  );
  const report = await reportOf(sandbox);
  assert.deepEqual({ cwd: report.cwd, artifactDir: report.artifactDir }, { cwd: path.join(sandbox.root, "data"), artifactDir: dir });
});

test("an artifact is downloaded over HTTP; a missing one is an error naming the URL", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const v1 = await publish(sandbox, "1.0.0");
  const archive = await readFile(v1.url);
  let requests = 0;
  const server = createServer((req, res) => {
    requests += 1;
    if (req.url === "/web-1.0.0.tar.gz") res.end(archive);
    else res.writeHead(404).end("not found");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const target = sandbox.target();

  await target.apply(service(sandbox, { url: `${base}/web-1.0.0.tar.gz`, digest: v1.digest }), sandbox.context);
  assert.equal((await reportOf(sandbox)).version, "1.0.0");
  assert.equal(requests, 1);

  await assert.rejects(
    target.apply(service(sandbox, { url: `${base}/web-9.9.9.tar.gz`, digest: sha256Of("9") }), sandbox.context),
    stalledWith("ArtifactFetchFailed", /spec\.artifact\.url: downloading the artifact http:\/\/127\.0\.0\.1:\d+\/web-9\.9\.9\.tar\.gz answered 404/),
  );
});

test(`old unpacked versions are removed: the one in use and the last ${ARTIFACTS_KEPT} others stay; leftovers of a crash go`, async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const target = sandbox.target();
  const versions = [];
  for (let i = 1; i <= ARTIFACTS_KEPT + 3; i += 1) versions.push(await publish(sandbox, `${i}.0.0`));
  // What an agent that died while unpacking leaves behind goes too.
  await mkdir(path.join(sandbox.stateDir, "artifacts", ".tmp-leftover", "tree"), { recursive: true });
  let previous: number | undefined;
  for (const version of versions) {
    await target.apply(service(sandbox, version), sandbox.context);
    previous = (await reportOf(sandbox, previous)).pid;
  }
  const expected = versions.slice(-(ARTIFACTS_KEPT + 1)).map((v) => v.digest.slice("sha256:".length));
  assert.deepEqual(await unpacked(sandbox), expected.sort());
});

test("a job runs from its artifact, and a directory artifact is checked against its directory digest", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const target = sandbox.target();
  const source = path.join(sandbox.base, "smoke");
  await mkdir(source);
  await writeFile(path.join(source, "check.js"), `require("fs").writeFileSync(process.argv[2], process.cwd());\n`);
  const digest = await directoryDigest(source);
  const out = path.join(sandbox.base, "smoke.out");
  const job = (d: string) => hostObject("Job", "smoke", { command: process.execPath, args: ["check.js", out], artifact: { url: `file://${source}`, digest: d } });

  await assert.rejects(target.apply(job(sha256Of("wrong")), sandbox.context), stalledWith("ArtifactDigestMismatch", new RegExp(`has digest ${digest}`)));
  assert.equal(await target.apply(job(digest), sandbox.context), "created");
  assert.equal(await readFile(out, "utf8"), path.join(sandbox.stateDir, "artifacts", digest.slice("sha256:".length)));
});

test("what the directory watcher finds runs as is: publishing 2.0.0 into the artifact directory moves the service to it", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const target = sandbox.target();
  const watcher = createWatcher(watchSpecSchema.parse({ type: "directory", path: path.join(sandbox.base, "published"), pattern: "web-{version}.tar.gz" }));
  await publish(sandbox, "1.0.0");
  const first = await watcher.latest();
  assert.ok(first?.url !== undefined && first.digest !== undefined);
  await target.apply(service(sandbox, { url: first.url, digest: first.digest }), sandbox.context);
  const running = await reportOf(sandbox);
  assert.equal(running.version, "1.0.0");

  await publish(sandbox, "2.0.0");
  const second = await watcher.latest();
  assert.equal(second?.version, "2.0.0");
  assert.ok(second?.url !== undefined && second.digest !== undefined);
  assert.equal(await target.apply(service(sandbox, { url: second.url, digest: second.digest }), sandbox.context), "configured");
  assert.equal((await reportOf(sandbox, running.pid)).version, "2.0.0");
});
