/**
 * Benchmark: the host target with grown-up repositories, each application
 * four Files, all in one generated repository. For each size (and, in the
 * same run, a repository of one application) it measures the first sync, a
 * commit touching no application, a commit touching one, idle CPU, a hand
 * edit put back, and memory; then prints the ratios against the aims.
 *
 *   node dist/bench/scale.js          (APPS=1000,10000 IDLE_SECONDS=60 by default)
 *   APPS=200 IDLE_SECONDS=10 node dist/bench/scale.js
 *
 * CPU is the agent's own process plus the git processes it ran (Linux:
 * /proc/self/stat, children counted once they exit).
 */
import { readFileSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "../src/agent/agent.js";
import { runGit } from "../src/source/git.js";
import { TestRepository } from "../test/support/test-repository.js";
import { median, timed } from "./measure.js";

const SIZES = (process.env.APPS ?? "1000,10000").split(",").map((s) => Number(s.trim())).filter((n) => n > 0);
const IDLE_SECONDS = Number(process.env.IDLE_SECONDS ?? 60);
const FILES_PER_APP = 4;
const TICKS = 100; // USER_HZ on Linux

interface Figures {
  readonly apps: number;
  readonly firstSyncMs: number;
  readonly firstSyncCpuMs: number;
  readonly noAppMs: number;
  readonly noAppCpuMs: number;
  readonly noAppRenders: number;
  readonly noAppRecordWrites: number;
  readonly oneAppMs: number;
  readonly oneAppCpuMs: number;
  readonly oneAppRenders: number;
  readonly gitFetchMs: number;
  readonly passCpuMs: number;
  readonly passRenders: number;
  readonly passRecordWrites: number;
  readonly passMs: number;
  readonly idleCorePercent: number;
  readonly handEditMs: number;
  readonly rssMiB: number;
  readonly filePolling: number;
}

/** CPU milliseconds of this process and its exited children so far. */
function cpuMs(): number {
  const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1]?.split(" ") ?? [];
  // utime, stime, cutime, cstime are fields 14-17 of stat; 12-15 after the name.
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
  return (ticks * 1000) / TICKS;
}

function applicationDocument(i: number): string {
  return `apiVersion: ferry.dev/v1\nkind: Application\nmetadata:\n  name: app-${i}\nspec:\n  source:\n    path: apps/app-${i}\n`;
}

function filesOf(i: number, version: number): string {
  return Array.from(
    { length: FILES_PER_APP },
    (_, f) => `apiVersion: host.ferry.dev/v1\nkind: File\nmetadata:\n  name: app-${i}-f${f}\nspec:\n  path: app-${i}/f${f}.conf\n  content: "app ${i} file ${f} version ${version}\\n"\n`,
  ).join("---\n");
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function recordsWrittenSince(state: string, since: number): Promise<number> {
  const dir = join(state, "apps");
  let count = 0;
  for (const name of await readdir(dir)) if ((await stat(join(dir, name))).mtimeMs >= since) count++;
  return count;
}

async function measure(apps: number): Promise<Figures> {
  const work = await mkdtemp(join(tmpdir(), "ferry-scale-"));
  const repo = await TestRepository.create();
  const files: Record<string, string> = { "README.md": "generated\n", "ferry/applications.yaml": Array.from({ length: apps }, (_, i) => applicationDocument(i)).join("---\n") };
  for (let i = 0; i < apps; i++) files[`apps/app-${i}/files.yaml`] = filesOf(i, 1);
  await repo.commit(files, "initial");
  const state = join(work, "state");
  const root = join(work, "live");
  const agent = new Agent({ repo: repo.directory, ref: "main", path: "ferry", stateDir: state, root, pollIntervalMs: 3_600_000, jitter: 0, listen: false, healthTimeoutMs: 30_000 });
  try {
    global.gc?.();
    let cpu = cpuMs();
    const firstSyncMs = await timed(async () => {
      await agent.start();
      await agent.engine.whenIdle();
    });
    const firstSyncCpuMs = cpuMs() - cpu;
    const notReady = agent.statuses().filter((s) => s.conditions.find((c) => c.type === "Ready")?.status !== "True");
    if (notReady.length > 0) throw new Error(`${notReady.length} applications not Ready after the first sync, e.g. ${JSON.stringify(notReady[0]?.conditions)}`);

    // A commit touching no application.
    await repo.commit({ "README.md": "generated, and edited\n" }, "readme");
    let renders = agent.engine.runCounts().renders;
    const since = Date.now();
    cpu = cpuMs();
    const noAppMs = await timed(async () => {
      await agent.refresh();
      await agent.engine.whenIdle();
    });
    const noAppCpuMs = cpuMs() - cpu;
    const noAppRenders = agent.engine.runCounts().renders - renders;
    const noAppRecordWrites = await recordsWrittenSince(state, since);

    // A commit touching one application: until its changed file is on disk.
    const target = Math.floor(apps / 2);
    await repo.commit({ [`apps/app-${target}/files.yaml`]: filesOf(target, 2) }, "one application");
    renders = agent.engine.runCounts().renders;
    cpu = cpuMs();
    const changed = join(root, `app-${target}`, "f0.conf");
    const oneAppMs = await timed(async () => {
      await agent.refresh();
      await until(async () => (await readFile(changed, "utf8").catch(() => "")).includes("version 2"), "the changed file");
    });
    await agent.engine.whenIdle();
    const oneAppCpuMs = cpuMs() - cpu;
    const oneAppRenders = agent.engine.runCounts().renders - renders;

    // A bare shallow fetch of the same commit: what git alone costs.
    const fetches: number[] = [];
    for (let i = 0; i < 3; i++) {
      const bare = join(work, `bare-${i}`);
      await runGit(["init", "--bare", "-q", bare]);
      fetches.push(await timed(() => runGit(["fetch", "-q", "--depth=1", `file://${repo.directory}`, "main"], { cwd: bare })));
    }

    // Every application's interval run at once, with nothing changed: the safety net's cost.
    cpu = cpuMs();
    const passRenders0 = agent.engine.runCounts().renders;
    const passSince = Date.now();
    const passMs = await timed(async () => {
      for (const app of agent.engine.applications()) agent.engine.enqueue(app.name, "interval");
      await agent.engine.whenIdle();
    });
    const passCpuMs = cpuMs() - cpu;
    const passRenders = agent.engine.runCounts().renders - passRenders0;
    const passRecordWrites = await recordsWrittenSince(state, passSince);

    // Idle: nothing changes. Measured right after the interval pass, so it is the agent between interval runs.
    cpu = cpuMs();
    const idleStart = performance.now();
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const idleCorePercent = ((cpuMs() - cpu) / (performance.now() - idleStart)) * 100;

    // A hand edit of a managed file, put back by the agent.
    const edited = join(root, "app-0", "f1.conf");
    const applied = await readFile(edited, "utf8");
    const handEditMs = await timed(async () => {
      await writeFile(edited, "edited by hand\n");
      await until(async () => (await readFile(edited, "utf8").catch(() => "")) === applied, "the hand edit to be put back", 60_000);
    });
    global.gc?.();
    const rssMiB = process.memoryUsage().rss / 2 ** 20;
    const statuses = agent.statuses();
    const filePolling = statuses.filter((s) => s.inventory.some((e) => e.health.message.includes("polling"))).length;
    return {
      apps,
      firstSyncMs,
      firstSyncCpuMs,
      noAppMs,
      noAppCpuMs,
      noAppRenders,
      noAppRecordWrites,
      oneAppMs,
      oneAppCpuMs,
      oneAppRenders,
      gitFetchMs: median(fetches),
      passMs,
      passCpuMs,
      passRenders,
      passRecordWrites,
      idleCorePercent,
      handEditMs,
      rssMiB,
      filePolling,
    };
  } finally {
    await agent.stop();
    await rm(work, { recursive: true, force: true });
    await repo.remove();
  }
}

function verdict(ok: boolean): string {
  return ok ? "met" : "NOT met";
}

async function main(): Promise<void> {
  const single = await measure(1);
  console.log(`\nscale (host target, ${FILES_PER_APP} Files per application, idle ${IDLE_SECONDS} s, node ${process.version})\n`);
  const rows: [string, (f: Figures) => string][] = [
    ["first sync, wall ms", (f) => f.firstSyncMs.toFixed(0)],
    ["first sync, CPU ms", (f) => f.firstSyncCpuMs.toFixed(0)],
    ["commit touching no application, wall ms", (f) => f.noAppMs.toFixed(0)],
    ["commit touching no application, CPU ms", (f) => f.noAppCpuMs.toFixed(0)],
    ["commit touching no application, renders", (f) => String(f.noAppRenders)],
    ["commit touching no application, records written", (f) => String(f.noAppRecordWrites)],
    ["commit touching one application, wall ms", (f) => f.oneAppMs.toFixed(0)],
    ["commit touching one application, CPU ms", (f) => f.oneAppCpuMs.toFixed(0)],
    ["commit touching one application, renders", (f) => String(f.oneAppRenders)],
    ["bare git fetch --depth=1 of that commit, ms", (f) => f.gitFetchMs.toFixed(0)],
    ["interval pass of every application, wall ms", (f) => f.passMs.toFixed(0)],
    ["interval pass of every application, CPU ms", (f) => f.passCpuMs.toFixed(0)],
    ["interval pass: renders, records written", (f) => `${f.passRenders}, ${f.passRecordWrites}`],
    ["idle CPU, % of one core", (f) => f.idleCorePercent.toFixed(2)],
    ["hand edit put back, ms", (f) => f.handEditMs.toFixed(0)],
    ["applications with files polled, not watched", (f) => String(f.filePolling)],
    ["RSS after, MiB", (f) => f.rssMiB.toFixed(0)],
  ];
  const results: Figures[] = [];
  for (const apps of SIZES) results.push(await measure(apps));
  const header = ["measure".padEnd(50), "1 app".padStart(10), ...results.map((r) => `${r.apps} apps`.padStart(12))].join(" ");
  console.log(header);
  for (const [name, value] of rows) console.log([name.padEnd(50), value(single).padStart(10), ...results.map((r) => value(r).padStart(12))].join(" "));
  console.log("");
  for (const r of results) {
    const vsSingle = r.oneAppMs / single.oneAppMs;
    const vsFetch = r.oneAppMs / r.gitFetchMs;
    console.log(`${r.apps} apps:`);
    console.log(`  one application changed: ${vsSingle.toFixed(2)}x the one-application repository (aim 1.5x: ${verdict(vsSingle <= 1.5)}), ${vsFetch.toFixed(2)}x a bare git fetch (aim 3x: ${verdict(vsFetch <= 3)})`);
    console.log(`  no application changed: ${r.noAppCpuMs.toFixed(0)} ms CPU, ${r.noAppRenders} renders, ${r.noAppRecordWrites} records written (aim < 500 ms, 0, 0: ${verdict(r.noAppCpuMs < 500 && r.noAppRenders === 0 && r.noAppRecordWrites === 0)})`);
    console.log(`  idle with ${r.apps * FILES_PER_APP} files: ${r.idleCorePercent.toFixed(2)}% of a core (aim < 1%: ${verdict(r.idleCorePercent < 1)}); hand edit put back in ${r.handEditMs.toFixed(0)} ms (aim < 1000: ${verdict(r.handEditMs < 1000)})`);
    console.log(`  interval runs (every application once a minute, the default): ${((r.passCpuMs / 60_000) * 100).toFixed(2)}% of a core on average, on top of idle`);
    console.log(`  RSS ${r.rssMiB.toFixed(0)} MiB (aim < 400 MiB: ${verdict(r.rssMiB < 400)})`);
  }
}

await main();
