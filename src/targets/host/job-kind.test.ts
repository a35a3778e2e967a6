import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { FerryError } from "../../core/errors.js";
import type { JsonObject } from "../../core/json.js";
import { createSandbox, hostObject, pidAlive, waitFor } from "../../../test/support/host-test-support.js";

const COUNT_RUN = `require("fs").appendFileSync("runs.log", process.argv.slice(1).join(" ") + "\\n"); console.log("migrated");`;

function job(spec: JsonObject): ReturnType<typeof hostObject> {
  return hostObject("Job", "migrate", { command: process.execPath, ...spec });
}

test("a job runs once per spec and again when its spec changes", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const target = sandbox.target();
  const runs = async (): Promise<string[]> => (await readFile(path.join(sandbox.root, "runs.log"), "utf8")).split("\n").filter(Boolean);
  const v1 = job({ args: ["-e", COUNT_RUN, "v1"] });

  assert.equal((await target.health([v1.key])).get(v1.key)?.status, "Missing");
  assert.equal(await target.apply(v1, sandbox.context), "created");
  assert.equal(await target.apply(v1, sandbox.context), "unchanged");
  assert.deepEqual(await runs(), ["v1"]);
  assert.equal((await target.health([v1.key])).get(v1.key)?.status, "Healthy");
  assert.deepEqual((await target.read([v1.key])).get(v1.key)?.state, await target.describe(v1, sandbox.context));
  assert.equal(await readFile(path.join(sandbox.stateDir, "logs/job-migrate.log"), "utf8"), "migrated\n");

  const v2 = job({ args: ["-e", COUNT_RUN, "v2"] });
  assert.equal(await target.apply(v2, sandbox.context), "configured");
  assert.deepEqual(await runs(), ["v1", "v2"]);
  assert.deepEqual((await target.read([v2.key])).get(v2.key)?.state["args"], ["-e", COUNT_RUN, "v2"]);

  const second = sandbox.target();
  assert.equal(await second.apply(v2, sandbox.context), "unchanged");
  assert.deepEqual(await runs(), ["v1", "v2"]);
});

test("a failed run is recorded with its exit code and output and is not retried until the spec changes", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const target = sandbox.target();
  const script = `require("fs").appendFileSync("runs.log", "run\\n"); console.log("step 1 ok"); console.error("relation users already exists"); process.exit(3);`;
  const failing = job({ args: ["-e", script] });
  const isJobFailed = (error: unknown): boolean => {
    assert.ok(error instanceof FerryError);
    assert.equal(error.disposition, "stalled");
    assert.equal(error.reason, "JobFailed");
    assert.match(error.message, /^job migrate exited with code 3;/);
    assert.match(error.message, /step 1 ok\n {2}relation users already exists$/);
    return true;
  };

  await assert.rejects(target.apply(failing, sandbox.context), isJobFailed);
  await assert.rejects(target.apply(failing, sandbox.context), isJobFailed);
  assert.equal(await readFile(path.join(sandbox.root, "runs.log"), "utf8"), "run\n");
  assert.deepEqual((await target.health([failing.key])).get(failing.key), { status: "Degraded", message: "exited with code 3" });
  assert.ok((await target.read([failing.key])).has(failing.key));

  await target.delete(failing.key, sandbox.context);
  assert.equal((await target.read([failing.key])).size, 0);
  await assert.rejects(stat(path.join(sandbox.stateDir, "logs/job-migrate.log")), { code: "ENOENT" });
  await target.delete(failing.key, sandbox.context);
});

test("a job that runs past its timeout is killed with its process group", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const target = sandbox.target();
  // The job starts a grandchild that would outlive it if only the job itself were killed.
  const script = `
    const { spawn } = require("child_process"), fs = require("fs");
    const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
    fs.writeFileSync("pids", process.pid + " " + child.pid);
    console.log("waiting forever");
    setInterval(() => {}, 1000);
  `;
  const stuck = job({ args: ["-e", script], timeoutSeconds: 0.5 });
  await assert.rejects(target.apply(stuck, sandbox.context), (error: unknown) => {
    assert.ok(error instanceof FerryError);
    assert.equal(error.reason, "JobFailed");
    assert.match(error.message, /timed out after 0\.5s and was killed.*waiting forever/s);
    return true;
  });
  const pids = (await readFile(path.join(sandbox.root, "pids"), "utf8")).split(" ").map(Number);
  for (const pid of pids) await waitFor(`process ${pid} to be killed`, () => !pidAlive(pid));
  assert.match((await target.health([stuck.key])).get(stuck.key)?.message ?? "", /timed out/);
});

test("a job whose command cannot be found is a stalled error, and nothing is recorded", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const target = sandbox.target();
  const object = hostObject("Job", "ghost", { command: "./bin/migrate" });
  await assert.rejects(target.apply(object, sandbox.context), (error: unknown) => {
    assert.ok(error instanceof FerryError);
    assert.equal(error.reason, "CommandNotFound");
    assert.match(error.message, /command "\.\/bin\/migrate" was not found relative to /);
    return true;
  });
  assert.equal((await target.read([object.key])).size, 0);
});
