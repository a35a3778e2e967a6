// Runs of a host Job for verifications: apart from the Job's own record, one
// per run id with its output and exit code, the version in its environment,
// the newest few kept, and a run whose process vanished without a result
// reported as lost.
import assert from "node:assert/strict";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { createSandbox, hostObject, waitFor } from "../../../test/support/host-test-support.js";
import { KEPT_RUNS } from "./job-runs.js";

const SMOKE = `const v = process.env.FERRY_VERSION; console.log("checking " + v); process.exit(v === "2.0.0" ? 1 : 0);`;

test("a Job runs again per run id with the version in its environment, judged by that run; the newest runs are kept", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const target = sandbox.target();
  const smoke = hostObject("Job", "smoke", { command: process.execPath, args: ["-e", SMOKE] });
  assert.equal(await target.apply(smoke, sandbox.context), "created");
  const ended = async (id: string) => waitFor(`run ${id} to end`, async () => {
    const run = await target.jobRun?.(smoke.key, id);
    return run && run.status !== "running" ? run : undefined;
  });

  const first = await target.runJob?.(smoke, sandbox.context, { id: "1-0-0-aaaaaa", env: { FERRY_VERSION: "1.0.0" } });
  assert.equal(first?.id, "1-0-0-aaaaaa");
  const passed = await ended("1-0-0-aaaaaa");
  assert.equal(passed.status, "succeeded");
  assert.match(passed.output ?? "", /checking 1\.0\.0/);
  // The same id is the same run, not another one.
  assert.equal((await target.runJob?.(smoke, sandbox.context, { id: "1-0-0-aaaaaa", env: { FERRY_VERSION: "1.0.0" } }))?.startedAt, passed.startedAt);

  await target.runJob?.(smoke, sandbox.context, { id: "2-0-0-bbbbbb", env: { FERRY_VERSION: "2.0.0" } });
  const failed = await ended("2-0-0-bbbbbb");
  assert.equal(failed.status, "failed");
  assert.equal(failed.message, "exited with code 1");
  assert.match(failed.output ?? "", /checking 2\.0\.0/);
  // The Job's own record stays as the sync left it.
  assert.equal((await target.health([smoke.key])).get(smoke.key)?.status, "Healthy");

  for (let i = 0; i < KEPT_RUNS; i++) {
    await target.runJob?.(smoke, sandbox.context, { id: `3-0-${i}-cccccc`, env: { FERRY_VERSION: "3.0.0" } });
    await ended(`3-0-${i}-cccccc`);
  }
  const kept = (await readdir(path.join(sandbox.stateDir, "runs", "smoke"))).filter((f) => f.endsWith(".json")).sort();
  assert.deepEqual(kept, Array.from({ length: KEPT_RUNS }, (_, i) => `3-0-${i}-cccccc.json`));
  assert.equal(await target.jobRun?.(smoke.key, "1-0-0-aaaaaa"), undefined);
});

test("a run whose process is gone without a result is lost", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const target = sandbox.target();
  const smoke = hostObject("Job", "smoke", { command: process.execPath, args: ["-e", "0"] });
  // As an agent stopped in the middle of a run leaves it: running, with a process that is no more.
  const record = { id: "4-0-0-dddddd", name: "x.log", status: "running", startedAt: new Date().toISOString(), message: "running", process: { pid: 2 ** 22 + 7, startTime: "1" } };
  const dir = path.join(sandbox.stateDir, "runs", "smoke");
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, "4-0-0-dddddd.json"), JSON.stringify(record));
  const run = await target.jobRun?.(smoke.key, "4-0-0-dddddd");
  assert.equal(run?.status, "lost");
  assert.match(run?.message ?? "", /the agent stopped while it ran/);
});
