import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { TestContext } from "node:test";
import { test } from "node:test";
import type { JsonObject } from "../../core/json.js";
import type { RenderedObject } from "../../core/objects.js";
import type { HostTarget } from "./host-target.js";
import type { HostSandbox } from "../../../test/support/host-test-support.js";
import { createSandbox, hostObject, pidAlive, waitFor } from "../../../test/support/host-test-support.js";

const PASSWORD = "pw-Zr81kq";
const LICENSE = "lic-Yt40vn";
const FILE_SECRET = "file-secret-Mq27xd";

/** Logs each start, and writes the secret env it got to `env-<pid>.json` (in the root, not the state directory). */
const SERVICE = `
const fs = require("fs");
fs.appendFileSync("starts.log", process.pid + "\\n");
fs.writeFileSync("env-" + process.pid + ".json", JSON.stringify({ DB_PASSWORD: process.env.DB_PASSWORD, LICENSE: process.env.LICENSE, GREETING: process.env.GREETING }));
setInterval(() => {}, 1000);
`;

function service(extra: JsonObject = {}): RenderedObject {
  return hostObject("Service", "api", {
    command: process.execPath,
    args: ["-e", SERVICE],
    env: { DB_PASSWORD: PASSWORD, LICENSE, GREETING: "hello" },
    secretEnv: ["LICENSE"],
    restart: { backoffSeconds: 0.1 },
    stop: { gracePeriodSeconds: 2 },
    ...extra,
  });
}

function job(): RenderedObject {
  return hostObject("Job", "migrate", {
    command: process.execPath,
    args: ["-e", `require("fs").appendFileSync("job-runs.txt", process.env.DB_PASSWORD + "\\n")`],
    env: { DB_PASSWORD: PASSWORD, MODE: "up" },
  });
}

function secretFile(): RenderedObject {
  const object = hostObject("File", "key", { path: "key.txt", content: FILE_SECRET, mode: "0600" });
  return { ...object, manifest: { ...object.manifest, metadata: { name: "key", annotations: { "ferry.dev/secret": "true" } } } };
}

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

/** Every file under the state directory whose bytes hold a secret value or its plain sha256. */
async function stateFilesHoldingSecrets(sandbox: HostSandbox): Promise<string[]> {
  const needles = [PASSWORD, LICENSE, FILE_SECRET].flatMap((s) => [s, sha256(s)]);
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) {
        const bytes = await readFile(full);
        for (const needle of needles) if (bytes.includes(needle)) found.push(`${path.relative(sandbox.stateDir, full)} holds ${needle}`);
      }
    }
  };
  await walk(sandbox.stateDir);
  return found;
}

async function starts(sandbox: HostSandbox): Promise<number[]> {
  const text = await readFile(path.join(sandbox.root, "starts.log"), "utf8").catch(() => "");
  return text.split("\n").filter(Boolean).map(Number);
}

async function nthStart(sandbox: HostSandbox, count: number): Promise<number> {
  const pids = await waitFor(`start number ${count}`, async () => {
    const all = await starts(sandbox);
    return all.length >= count && all;
  });
  return pids[count - 1] ?? -1;
}

/** The env a process of the service started with. */
async function envOf(sandbox: HostSandbox, pid: number): Promise<Record<string, string>> {
  const file = path.join(sandbox.root, `env-${pid}.json`);
  // The process may be writing it right now: absent or half-written is "not yet".
  return waitFor(`env of ${pid}`, async () => {
    try {
      return JSON.parse(await readFile(file, "utf8")) as Record<string, string>;
    } catch {
      return false;
    }
  });
}

async function readRecord(sandbox: HostSandbox, kind: string, name: string): Promise<JsonObject> {
  return JSON.parse(await readFile(path.join(sandbox.stateDir, "records", kind, `${name}.json`), "utf8")) as JsonObject;
}

/** A service started by one target, and a second target over the same state (as after an agent restart), with the service's object. */
async function serviceAfterRestart(t: TestContext): Promise<{ sandbox: HostSandbox; pid: number; second: HostTarget; object: RenderedObject }> {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const first = sandbox.target();
  await first.apply(service(), sandbox.context);
  const pid = await nthStart(sandbox, 1);
  await first.close();
  return { sandbox, pid, second: sandbox.target(), object: service() };
}

test("records keep sealed digests, not the values, of secret env and secret file content", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const target = sandbox.target();
  assert.equal(await target.apply(service(), sandbox.context), "created");
  assert.equal(await target.apply(job(), sandbox.context), "created");
  assert.equal(await target.apply(secretFile(), sandbox.context), "created");
  const pid = await nthStart(sandbox, 1);
  assert.deepEqual(await envOf(sandbox, pid), { DB_PASSWORD: PASSWORD, LICENSE, GREETING: "hello" }, "the process gets the values");
  assert.equal(await readFile(path.join(sandbox.root, "job-runs.txt"), "utf8"), `${PASSWORD}\n`);
  assert.equal(await readFile(path.join(sandbox.root, "key.txt"), "utf8"), FILE_SECRET);

  assert.deepEqual(await stateFilesHoldingSecrets(sandbox), []);
  const record = await readRecord(sandbox, "service", "api");
  const env = (record["desired"] as { env: Record<string, string> }).env;
  assert.equal(env["GREETING"], "hello", "values that are not secret are kept");
  assert.match(env["DB_PASSWORD"] ?? "", /^hmac-sha256:[0-9a-f]{64}$/);
  assert.deepEqual(record["sealedEnv"], ["DB_PASSWORD", "LICENSE"]);
  assert.deepEqual((await readRecord(sandbox, "job", "migrate"))["sealedEnv"], ["DB_PASSWORD"]);
  assert.match(String((await readRecord(sandbox, "file", "key"))["contentDigest"]), /^hmac-sha256:/);
  assert.equal((await stat(path.join(sandbox.stateDir, "records.key"))).mode & 0o777, 0o600);

  // Unchanged is still known, and a changed secret is still a change.
  for (const object of [service(), job(), secretFile()]) {
    assert.equal(await target.apply(object, sandbox.context), "unchanged", object.key);
    assert.deepEqual((await target.read([object.key])).get(object.key)?.state, await target.describe(object, sandbox.context), object.key);
  }
  const rotated = service({ env: { DB_PASSWORD: "pw-rotated", LICENSE, GREETING: "hello" } });
  assert.notDeepEqual(await target.describe(rotated, sandbox.context), (await target.read([rotated.key])).get(rotated.key)?.state);
  assert.equal(await target.apply(rotated, sandbox.context), "configured");
  assert.equal((await envOf(sandbox, await nthStart(sandbox, 2)))["DB_PASSWORD"], "pw-rotated");
  assert.equal((await target.health([secretFile().key])).get(secretFile().key)?.status, "Healthy");
});

test("a variable newly listed in secretEnv is sealed in the record without restarting the service", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const target = sandbox.target();
  const open = service({ env: { GREETING: "hello", PLAIN_LOOKING: LICENSE }, secretEnv: [] });
  await target.apply(open, sandbox.context);
  const pid = await nthStart(sandbox, 1);
  assert.equal((await readRecord(sandbox, "service", "api"))["sealedEnv"]?.toString(), "");

  const listed = service({ env: { GREETING: "hello", PLAIN_LOOKING: LICENSE }, secretEnv: ["PLAIN_LOOKING"] });
  assert.notDeepEqual(await target.describe(listed, sandbox.context), (await target.read([listed.key])).get(listed.key)?.state);
  assert.equal(await target.apply(listed, sandbox.context), "configured");
  assert.deepEqual(await starts(sandbox), [pid]);
  assert.deepEqual(await stateFilesHoldingSecrets(sandbox), []);
  assert.deepEqual((await target.read([listed.key])).get(listed.key)?.state, await target.describe(listed, sandbox.context));
});

test("after a restart of the target an unchanged service is in sync and left running, and restarts with its secrets once described", async (t) => {
  const { sandbox, pid, second, object } = await serviceAfterRestart(t);
  assert.deepEqual((await second.read([object.key])).get(object.key)?.state, await second.describe(object, sandbox.context), "in sync without the values");
  assert.equal(await second.apply(object, sandbox.context), "unchanged");
  assert.deepEqual(await starts(sandbox), [pid]);
  assert.ok(pidAlive(pid));

  // describe() saw the spec: a crash now is restarted with the real values.
  process.kill(pid, "SIGKILL");
  const next = await nthStart(sandbox, 2);
  assert.deepEqual(await envOf(sandbox, next), { DB_PASSWORD: PASSWORD, LICENSE, GREETING: "hello" });
  assert.deepEqual(await stateFilesHoldingSecrets(sandbox), []);
});

test("a service that dies after a restart of the target, before its spec is seen again, waits for the next run of its application and says why", async (t) => {
  const { sandbox, pid, second, object } = await serviceAfterRestart(t);
  assert.equal((await second.read([object.key])).get(object.key)?.state["running"], true);
  process.kill(pid, "SIGKILL");
  const message = await waitFor("waiting for the next run", async () => {
    const health = (await second.health([object.key])).get(object.key);
    return health?.status === "Degraded" && health.message.includes("next run") && health.message;
  });
  assert.match(message, /^exited; it is started again at the next run of its application: the values of DB_PASSWORD, LICENSE are not kept on disk and have not been read from Git since the agent started$/);
  await sleep(600);
  assert.deepEqual(await starts(sandbox), [pid], "not started without its secret values");

  assert.equal(await second.apply(object, sandbox.context), "configured");
  const next = await nthStart(sandbox, 2);
  assert.deepEqual(await envOf(sandbox, next), { DB_PASSWORD: PASSWORD, LICENSE, GREETING: "hello" });
});

test("records written with secret values are rewritten without them when loaded, and nothing runs again", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const first = sandbox.target();
  await first.apply(service(), sandbox.context);
  await first.apply(job(), sandbox.context);
  await first.apply(secretFile(), sandbox.context);
  const pid = await nthStart(sandbox, 1);
  await first.close();

  // What an earlier version wrote: the plain desired state (values included) and digests of it.
  const plainEnv = (object: RenderedObject): Record<string, string> => (object.manifest["spec"] as { env: Record<string, string> }).env;
  for (const [kind, name, object] of [["service", "api", service()], ["job", "migrate", job()]] as const) {
    const { sealedEnv: _sealed, ...rest } = await readRecord(sandbox, kind, name);
    const desired = { ...(rest["desired"] as JsonObject), env: plainEnv(object) };
    await writeFile(path.join(sandbox.stateDir, "records", kind, `${name}.json`), JSON.stringify({ ...rest, digest: sha256(JSON.stringify(desired)), desired }));
  }
  const { contentDigest: _digest, ...file } = await readRecord(sandbox, "file", "key");
  await writeFile(path.join(sandbox.stateDir, "records", "file", "key.json"), JSON.stringify({ ...file, sha256: sha256(FILE_SECRET) }));
  assert.notDeepEqual(await stateFilesHoldingSecrets(sandbox), []);

  const second = sandbox.target();
  for (const object of [service(), job(), secretFile()]) {
    assert.deepEqual((await second.read([object.key])).get(object.key)?.state, await second.describe(object, sandbox.context), object.key);
  }
  assert.deepEqual(await stateFilesHoldingSecrets(sandbox), []);
  assert.deepEqual((await readRecord(sandbox, "service", "api"))["sealedEnv"], ["DB_PASSWORD", "GREETING", "LICENSE"], "which were secret was not recorded");
  // An apply seals what the object says is secret and keeps the rest again; the process stays, the job does not run.
  assert.equal(await second.apply(service(), sandbox.context), "configured");
  assert.equal(await second.apply(job(), sandbox.context), "configured");
  assert.deepEqual((await readRecord(sandbox, "service", "api"))["sealedEnv"], ["DB_PASSWORD", "LICENSE"]);
  for (const object of [service(), job(), secretFile()]) assert.equal(await second.apply(object, sandbox.context), "unchanged", object.key);
  assert.deepEqual(await starts(sandbox), [pid]);
  assert.equal(await readFile(path.join(sandbox.root, "job-runs.txt"), "utf8"), `${PASSWORD}\n`, "the job ran once");
  assert.equal((await second.health([secretFile().key])).get(secretFile().key)?.status, "Healthy");

  // The values read while rewriting are kept in memory: a crash is restarted with them.
  process.kill(pid, "SIGKILL");
  assert.deepEqual(await envOf(sandbox, await nthStart(sandbox, 2)), { DB_PASSWORD: PASSWORD, LICENSE, GREETING: "hello" });
  assert.deepEqual(await stateFilesHoldingSecrets(sandbox), []);
});
