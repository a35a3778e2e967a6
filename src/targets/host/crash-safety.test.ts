// What a host target finds after an agent was killed at the worst instant:
// a process started but not recorded, a copy nobody tracks, a file written
// but not recorded, and the temporary files of interrupted writes.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdir, readFile, writeFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import type { HostSandbox } from "../../../test/support/host-test-support.js";
import { createSandbox, hostObject, pidAlive, waitFor } from "../../../test/support/host-test-support.js";
import { spawnDetached } from "./spawn-detached.js";
import { validateHostObject } from "./host-validate.js";

/** Logs each start, then sleeps. */
const SLEEPER = `require("fs").appendFileSync("starts.log", process.pid + "\\n"); setInterval(() => {}, 1000);`;

const sleeper = (): ReturnType<typeof hostObject> =>
  hostObject("Service", "web", { command: process.execPath, args: ["-e", SLEEPER], restart: { backoffSeconds: 0.05 }, stop: { gracePeriodSeconds: 2 } });

async function starts(sandbox: HostSandbox): Promise<number[]> {
  const text = await readFile(path.join(sandbox.root, "starts.log"), "utf8").catch(() => "");
  return text.split("\n").filter(Boolean).map(Number);
}

function recordPath(sandbox: HostSandbox, kind: string, name: string): string {
  return path.join(sandbox.stateDir, "records", kind, `${name}.json`);
}

async function rewriteRecord(sandbox: HostSandbox, kind: string, name: string, change: (record: Record<string, unknown>) => Record<string, unknown>): Promise<void> {
  const file = recordPath(sandbox, kind, name);
  await writeFile(file, JSON.stringify(change(JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>)));
}

test("a process started but not recorded (the agent killed in between) is adopted by the next agent, not started twice", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const first = sandbox.target();
  const object = sleeper();
  await first.apply(object, sandbox.context);
  const [pid] = await waitFor("the first start", async () => {
    const all = await starts(sandbox);
    return all.length > 0 && all;
  });
  await first.close();
  // What the record holds when the agent dies after the start and before the record names the process.
  await rewriteRecord(sandbox, "service", "web", (record) => ({ ...record, pid: 0, startTime: "" }));

  const second = sandbox.target();
  const live = (await second.read([object.key])).get(object.key);
  assert.equal(live?.state["running"], true, "the running process is found and adopted");
  assert.equal((await second.health([object.key])).get(object.key)?.status, "Healthy");
  // The read waited for the target's start (adoption, stray processes stopped): a second copy would have been started by then.
  assert.deepEqual(await starts(sandbox), [pid], "no second copy is started");
  assert.ok(pid !== undefined && pidAlive(pid));
  assert.equal(JSON.parse(await readFile(recordPath(sandbox, "service", "web"), "utf8")).pid, pid, "the record names it again");
});

test("a second copy nobody tracks is stopped by the next agent; the recorded one keeps running", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const first = sandbox.target();
  const object = sleeper();
  await first.apply(object, sandbox.context);
  const [pid] = await waitFor("the first start", async () => {
    const all = await starts(sandbox);
    return all.length > 0 && all;
  });
  await first.close();
  // A copy started by a killed agent whose record was then overwritten: it carries the mark of this state directory.
  const stateId = createHash("sha256").update(sandbox.stateDir).digest("hex").slice(0, 16);
  const orphan = await spawnDetached({
    command: process.execPath,
    args: ["-e", SLEEPER],
    cwd: sandbox.root,
    env: { PATH: process.env["PATH"] ?? "", FERRY_OWNER: `${stateId}/demo/Service/web` },
    logPath: path.join(sandbox.base, "orphan.log"),
    logMode: "append",
  });
  t.after(() => void (pidAlive(orphan.identity.pid) && process.kill(-orphan.identity.pid, "SIGKILL")));

  const second = sandbox.target();
  await second.read([object.key]);
  await waitFor("the untracked copy to stop", () => !pidAlive(orphan.identity.pid));
  assert.ok(pid !== undefined && pidAlive(pid), "the recorded process runs on");
});

test("a file written but not recorded (the agent killed in between) is repaired, not Degraded for good", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const first = sandbox.target();
  const v1 = hostObject("File", "config", { path: "app/config.txt", content: "v1\n" });
  const v2 = hostObject("File", "config", { path: "app/config.txt", content: "v2\n" });
  await first.apply(v1, sandbox.context);
  await first.close();
  // The new content reached the disk; its record did not.
  await writeFile(path.join(sandbox.root, "app/config.txt"), "v2\n");

  const second = sandbox.target();
  const desired = await second.describe(v2, sandbox.context);
  assert.deepEqual((await second.read([v2.key])).get(v2.key)?.state, desired, "live equals Git: nothing to apply");
  assert.deepEqual((await second.health([v2.key])).get(v2.key), { status: "Healthy", message: `file ${path.join(sandbox.root, "app/config.txt")} is as applied` });
});

test("temporary files of interrupted writes are removed at start", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const first = sandbox.target();
  await first.apply(hostObject("File", "config", { path: "app/config.txt", content: "v1\n" }), sandbox.context);
  await first.close();
  await writeFile(path.join(sandbox.root, "app", ".config.txt.0123456789ab.tmp"), "half");
  await mkdir(path.join(sandbox.stateDir, "records", "service"), { recursive: true });
  await writeFile(path.join(sandbox.stateDir, "records", "file", ".config.json.abcdefabcdef.tmp"), "{");
  await writeFile(path.join(sandbox.root, "app", ".notes.txt.0123456789ab.tmp"), "not ours: no record names notes.txt");

  const second = sandbox.target();
  await second.read([]);
  assert.deepEqual((await readdir(path.join(sandbox.root, "app"))).sort(), [".notes.txt.0123456789ab.tmp", "config.txt"]);
  assert.deepEqual(await readdir(path.join(sandbox.stateDir, "records", "file")), ["config.json"]);
});

test("a version that cannot start (NUL byte, environment over the exec limit) is refused with file and line, and the running one keeps running", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const target = sandbox.target();
  const running = sleeper();
  await target.apply(running, sandbox.context);
  const [pid] = await waitFor("the first start", async () => {
    const all = await starts(sandbox);
    return all.length > 0 && all;
  });
  const spec = running.manifest["spec"] as Record<string, unknown>;
  const versions = [
    { ...spec, env: { GREETING: "a\0b" } },
    { ...spec, args: [...(spec["args"] as string[]), "x\0y"] },
    { ...spec, env: Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`BIG_${i}`, "x".repeat(100_000)])) },
    { ...spec, env: { ONE: "x".repeat(200_000) } },
  ];
  for (const next of versions) {
    const object = hostObject("Service", "web", next);
    assert.ok(validateHostObject(object, sandbox.root).length > 0, `validate refuses ${JSON.stringify(next).slice(0, 120)}`);
    await assert.rejects(target.apply(object, sandbox.context), (error: unknown) => {
      assert.match(String((error as Error).message), /^deploy\/app\.yaml:\d+:\d+: .*(NUL byte|at most \d+)/);
      return true;
    });
    assert.ok(pid !== undefined && pidAlive(pid), "the running version was not stopped");
  }
  assert.equal((await starts(sandbox)).length, 1);
});

test("a job run a killed agent started but did not record is waited for, not started a second time", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const stateId = createHash("sha256").update(sandbox.stateDir).digest("hex").slice(0, 16);
  const earlier = await spawnDetached({
    command: process.execPath,
    args: ["-e", SLEEPER],
    cwd: sandbox.base,
    env: { PATH: process.env["PATH"] ?? "", FERRY_OWNER: `${stateId}/demo/Job/migrate` },
    logPath: path.join(sandbox.base, "earlier.log"),
    logMode: "append",
  });
  t.after(() => void (pidAlive(earlier.identity.pid) && process.kill(-earlier.identity.pid, "SIGKILL")));
  const target = sandbox.target();
  const job = hostObject("Job", "migrate", { command: process.execPath, args: ["-e", `require("fs").appendFileSync("runs.log", "run\\n")`] });
  await assert.rejects(target.apply(job, sandbox.context), (error: unknown) => {
    assert.match((error as Error).message, /still running from a start an earlier agent did not record/);
    return true;
  });
  assert.equal(await readFile(path.join(sandbox.root, "runs.log"), "utf8").catch(() => ""), "", "not run beside the earlier one");

  process.kill(-earlier.identity.pid, "SIGKILL");
  await waitFor("the earlier run to end", () => !pidAlive(earlier.identity.pid));
  assert.equal(await target.apply(job, sandbox.context), "created");
  assert.equal(await readFile(path.join(sandbox.root, "runs.log"), "utf8"), "run\n");
});

test("a new version whose start fails after the old one stopped (a script naming a missing interpreter) brings the old one back and names the file", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const target = sandbox.target();
  const running = sleeper();
  await target.apply(running, sandbox.context);
  await waitFor("the first start", async () => (await starts(sandbox)).length === 1);
  await mkdir(sandbox.root, { recursive: true });
  await writeFile(path.join(sandbox.root, "start.sh"), "#!/nonexistent/interpreter\n", { mode: 0o755 });
  const broken = hostObject("Service", "web", { ...(running.manifest["spec"] as Record<string, unknown>), command: "./start.sh", args: [] });

  await assert.rejects(target.apply(broken, sandbox.context), (error: unknown) => {
    assert.match((error as Error).message, /^deploy\/app\.yaml:\d+:\d+: .*service web could not be started: .*ENOENT.*; the previous version runs again$/);
    return true;
  });
  await waitFor("the previous version to start again", async () => (await starts(sandbox)).length === 2);
  assert.deepEqual((await target.read([running.key])).get(running.key)?.state, await target.describe(running, sandbox.context));
  assert.equal((await target.health([running.key])).get(running.key)?.status, "Healthy");
});
