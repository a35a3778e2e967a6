import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { FerryError } from "../../core/errors.js";
import type { JsonObject } from "../../core/json.js";
import type { LiveChange } from "../target.js";
import type { HostSandbox } from "../../../test/support/host-test-support.js";
import { createSandbox, hostObject, pidAlive, waitFor } from "../../../test/support/host-test-support.js";
import { freePort } from "../../../test/support/free-port.js";

/** An HTTP server that logs each start and answers 500 on /healthz while a file `unhealthy` exists. */
const SERVER = `
const fs = require("fs"), http = require("http");
fs.appendFileSync("starts.log", process.pid + "\\n");
const server = http.createServer((req, res) => {
  if (req.url === "/healthz" && fs.existsSync("unhealthy")) res.statusCode = 500;
  res.end("hello from " + process.pid);
});
server.listen(Number(process.env.PORT), "127.0.0.1");
`;

async function starts(sandbox: HostSandbox): Promise<number[]> {
  const text = await readFile(path.join(sandbox.root, "starts.log"), "utf8").catch(() => "");
  return text.split("\n").filter(Boolean).map(Number);
}

async function latestPid(sandbox: HostSandbox, count: number): Promise<number> {
  const pids = await waitFor(`start number ${count}`, async () => {
    const all = await starts(sandbox);
    return all.length >= count && all;
  });
  return pids[count - 1] ?? -1;
}

async function answer(port: number): Promise<string | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/`);
    return await response.text();
  } catch {
    return undefined;
  }
}

function webService(port: number, extra: JsonObject = {}): ReturnType<typeof hostObject> {
  return hostObject("Service", "web", {
    command: process.execPath,
    args: ["-e", SERVER],
    env: { PORT: String(port) },
    restart: { backoffSeconds: 0.1 },
    stop: { gracePeriodSeconds: 5 },
    ...extra,
  });
}

test("a service starts, answers, and an unchanged spec leaves the same process alone", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const target = sandbox.target();
  const port = await freePort();
  const object = webService(port);

  assert.equal(await target.apply(object, sandbox.context), "created");
  const pid = await latestPid(sandbox, 1);
  assert.equal(await waitFor("an answer", () => answer(port)), `hello from ${pid}`);

  assert.equal(await target.apply(object, sandbox.context), "unchanged");
  const live = (await target.read([object.key])).get(object.key);
  assert.deepEqual(live?.state, await target.describe(object, sandbox.context));
  assert.equal(live?.owner, "demo");
  assert.equal(live?.state["workingDir"], sandbox.root);
  assert.deepEqual(await starts(sandbox), [pid]);
  assert.equal((await target.health([object.key])).get(object.key)?.status, "Healthy");
});

test("changed args replace the process; the old one is gone", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const target = sandbox.target();
  const port = await freePort();
  await target.apply(webService(port), sandbox.context);
  const first = await latestPid(sandbox, 1);

  const changed = webService(port, { args: ["-e", SERVER, "--", "v2"] });
  assert.equal(await target.apply(changed, sandbox.context), "configured");
  const second = await latestPid(sandbox, 2);
  assert.notEqual(second, first);
  assert.equal(pidAlive(first), false);
  assert.equal(await waitFor("the new process to answer", () => answer(port)), `hello from ${second}`);
});

test("a killed service is restarted and watchers are told", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const target = sandbox.target();
  const changes: LiveChange[] = [];
  target.watch((change) => changes.push(change));
  const object = webService(await freePort());
  await target.apply(object, sandbox.context);
  const first = await latestPid(sandbox, 1);

  process.kill(first, "SIGKILL");
  const second = await latestPid(sandbox, 2);
  assert.notEqual(second, first);
  const exit = changes.find((c) => c.message === "service web was killed by signal SIGKILL");
  assert.ok(exit, `no exit event in ${JSON.stringify(changes)}`);
  assert.equal(exit.key, object.key);
  assert.equal(exit.owner, "demo");
  await waitFor("running again", async () => (await target.read([object.key])).get(object.key)?.state["running"] === true);
});

test("restart policy never leaves a dead service down and read shows running: false until the next apply", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const target = sandbox.target();
  const object = webService(await freePort(), { restart: { policy: "never" } });
  await target.apply(object, sandbox.context);
  const pid = await latestPid(sandbox, 1);

  process.kill(pid, "SIGKILL");
  await waitFor("running: false", async () => (await target.read([object.key])).get(object.key)?.state["running"] === false);
  const message = await waitFor("degraded", async () => {
    const health = (await target.health([object.key])).get(object.key);
    return health?.status === "Degraded" && health.message.includes("is not restarted") && health.message;
  });
  assert.equal(message, "was killed by signal SIGKILL and is not restarted (restart policy never)");
  assert.equal((await starts(sandbox)).length, 1);

  assert.equal(await target.apply(object, sandbox.context), "configured");
  assert.notEqual(await latestPid(sandbox, 2), pid);
});

test("a new target over the same state directory adopts the running service", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const first = sandbox.target();
  const object = webService(await freePort());
  await first.apply(object, sandbox.context);
  const pid = await latestPid(sandbox, 1);
  await first.close();

  const second = sandbox.target();
  assert.equal((await second.read([object.key])).get(object.key)?.state["running"], true);
  assert.equal(await second.apply(object, sandbox.context), "unchanged");
  assert.deepEqual(await starts(sandbox), [pid]);
  assert.ok(pidAlive(pid));

  // The adopted process is not this target's child: its death is noticed by polling.
  process.kill(pid, "SIGKILL");
  assert.notEqual(await latestPid(sandbox, 2), pid);
});

test("a recorded process that died while no agent ran is reported as not running", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const first = sandbox.target();
  const object = webService(await freePort(), { restart: { policy: "never" } });
  await first.apply(object, sandbox.context);
  const pid = await latestPid(sandbox, 1);
  await first.close();
  process.kill(pid, "SIGKILL");
  await waitFor("the process to die", () => !pidAlive(pid));

  const second = sandbox.target();
  assert.equal((await second.read([object.key])).get(object.key)?.state["running"], false);
  assert.equal((await second.health([object.key])).get(object.key)?.status, "Degraded");
});

test("a graceful stop sends the stop signal first and SIGKILL after the grace period", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const target = sandbox.target();
  const ignoresTerm = `
    const fs = require("fs");
    process.on("SIGTERM", () => fs.appendFileSync("signals.log", "TERM\\n"));
    fs.appendFileSync("starts.log", process.pid + "\\n");
    setInterval(() => {}, 1000);
  `;
  const object = hostObject("Service", "ignores-term", { command: process.execPath, args: ["-e", ignoresTerm], stop: { gracePeriodSeconds: 1 } });
  await target.apply(object, sandbox.context);
  const pid = await latestPid(sandbox, 1);

  const began = Date.now();
  await target.delete(object.key, sandbox.context);
  assert.ok(Date.now() - began >= 900, "the grace period was not waited for");
  assert.equal(await readFile(path.join(sandbox.root, "signals.log"), "utf8"), "TERM\n");
  assert.equal(pidAlive(pid), false);
  assert.equal((await target.read([object.key])).size, 0);
  assert.equal((await target.health([object.key])).get(object.key)?.status, "Missing");
  await target.delete(object.key, sandbox.context);
});

test("a command that cannot be found is a stalled error naming it", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const target = sandbox.target();
  const object = hostObject("Service", "ghost", { command: "ferry-no-such-command" });
  await assert.rejects(target.apply(object, sandbox.context), (error: unknown) => {
    assert.ok(error instanceof FerryError);
    assert.equal(error.disposition, "stalled");
    assert.equal(error.reason, "CommandNotFound");
    assert.match(error.message, /deploy\/app\.yaml:6:14: spec\.command: command "ferry-no-such-command" was not found on PATH/);
    return true;
  });
  assert.equal((await target.read([object.key])).size, 0);
});

test("an http health check makes a service healthy, and failing it degrades it", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const target = sandbox.target();
  const changes: string[] = [];
  target.watch((change) => changes.push(change.message));
  const port = await freePort();
  const healthCheck = { http: { url: `http://127.0.0.1:${port}/healthz` }, intervalSeconds: 0.1, failureThreshold: 2 };
  const object = webService(port, { healthCheck });
  await target.apply(object, sandbox.context);
  const status = async (): Promise<string | undefined> => (await target.health([object.key])).get(object.key)?.status;

  await waitFor("healthy", async () => (await status()) === "Healthy");
  await writeFile(path.join(sandbox.root, "unhealthy"), "");
  await waitFor("degraded", async () => (await status()) === "Degraded");
  assert.match((await target.health([object.key])).get(object.key)?.message ?? "", /returned status 500/);
  assert.ok(changes.some((m) => m.startsWith("service web is degraded: health check failed")), JSON.stringify(changes));
});

test("a crash-looping service is degraded with its exit code and restart count", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const target = sandbox.target();
  const script = `require("fs").appendFileSync("starts.log", process.pid + "\\n"); process.exit(1);`;
  const object = hostObject("Service", "crash", { command: process.execPath, args: ["-e", script], restart: { backoffSeconds: 0.05, maxBackoffSeconds: 0.2 } });
  await target.apply(object, sandbox.context);
  const message = await waitFor("a crash-loop message", async () => {
    const health = (await target.health([object.key])).get(object.key);
    const restarts = Number(/attempt (\d+),/.exec(health?.message ?? "")?.[1] ?? 0);
    return health?.status === "Degraded" && restarts >= 3 && health.message;
  });
  assert.match(message, /^exited with code 1; restarting, attempt \d+, next at \S+ \(backoff 0\.\ds\)$/);

  // Deleting it in the middle of the loop must cancel the pending restart, and one being launched.
  await target.delete(object.key, sandbox.context);
  const count = (await starts(sandbox)).length;
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal((await starts(sandbox)).length, count);
  assert.equal((await target.health([object.key])).get(object.key)?.status, "Missing");
});
