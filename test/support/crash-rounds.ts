/**
 * The crash rounds shared by the crash scenario (a few rounds) and the crash
 * benchmark (a hundred and more): an agent managing a dozen applications (one
 * Service and three Files each) is killed with SIGKILL at a random instant of
 * a sync, started again, and what it leaves is checked after every round.
 * The instants and the changes come from a seeded generator, so a failing
 * round can be played again from its seed.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { seededRandom } from "../../src/core/seeded-random.js";
import type { ApplicationStatus } from "../../src/engine/status.js";
import type { HistoryEntry, Page } from "../../src/history/types.js";
import { applicationsYaml, filesYaml } from "../scenario/fixtures.js";
import type { BackgroundCommand } from "../scenario/harness.js";
import { isReady, Scenario, scaled } from "../scenario/harness.js";

/** What a round can find wrong. */
export const FAILURE_KINDS = ["duplicate-process", "missing-process", "left-running", "degraded", "history", "history-after-status", "temporary-file", "not-converged"] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

/** How the rounds went. */
export interface CrashReport {
  readonly rounds: number;
  readonly failures: Readonly<Record<FailureKind, number>>;
  /** One line per failure: round, kind and what was seen. */
  readonly details: readonly string[];
}

export interface CrashOptions {
  readonly rounds: number;
  readonly seed: number;
  /** Applications managed (default 12). */
  readonly applications?: number;
  /** Told each round's outcome as it ends. */
  readonly log?: (line: string) => void;
}

/** The longest a kill waits after a commit: long enough to land in every stage of a sync. */
const MAX_KILL_DELAY_MS = 2500;

/**
 * Runs the rounds in a fresh scenario and returns what failed, per kind.
 * The scenario (and every process of it) is cleaned up at the end.
 */
export async function runCrashRounds(options: CrashOptions): Promise<CrashReport> {
  const random = seededRandom(options.seed);
  const count = options.applications ?? 12;
  const names = Array.from({ length: count }, (_, i) => `c${String(i).padStart(2, "0")}`);
  const versions = new Map(names.map((n) => [n, 1]));
  const present = new Set(names);
  const failures = Object.fromEntries(FAILURE_KINDS.map((k) => [k, 0])) as Record<FailureKind, number>;
  const details: string[] = [];
  const s = await Scenario.create();
  const token = `crashsvc-${s.dir.split("/").pop() ?? "x"}`;
  try {
    let head = await s.commit("Add the applications", repository(names, present, versions, token));
    let agent = s.startAgent({ interval: "2s" });
    await converge(s, present, head, 60_000);
    for (let round = 1; round <= options.rounds; round++) {
      const fail = (kind: FailureKind, what: string): void => {
        failures[kind]++;
        details.push(`round ${round}: ${kind}: ${what}`);
      };
      // A change: some versions bumped, now and then an application removed or one brought back.
      for (const name of names) if (present.has(name) && random() < 0.4) versions.set(name, (versions.get(name) ?? 1) + 1);
      const roll = random();
      const removable = [...present];
      if (roll < 0.25 && present.size > count - 3) present.delete(removable[Math.floor(random() * removable.length)] ?? "");
      else if (roll < 0.5) for (const name of names) if (!present.has(name)) present.add(name);
      head = await s.commit(`Round ${round}`, repository(names, present, versions, token));
      await sleep(Math.floor(random() * MAX_KILL_DELAY_MS));
      await kill(agent);
      agent = s.startAgent({ interval: "2s" });

      const statuses = await converge(s, present, head, scaled(45_000));
      if (!statuses.ok) fail("not-converged", statuses.why);
      checkProcesses(token, names, present, versions, fail);
      checkLeftovers(s, names, present, fail);
      for (const status of statuses.list) {
        if (present.has(status.name) && status.health.status === "Degraded") fail("degraded", `${status.name}: ${status.health.message}`);
      }
      await checkHistory(s, present, versions, fail);
      const failed = details.filter((d) => d.startsWith(`round ${round}:`));
      options.log?.(`round ${round}/${options.rounds}: ${failed.length === 0 ? "ok" : `${failed.length} failures\n  ${failed.join("\n  ")}`}`);
    }
    await kill(agent);
  } finally {
    await s.cleanup();
  }
  return { rounds: options.rounds, failures, details };
}

/** `rounds 100; failures: duplicate-process 0, ...` */
export function formatCrashReport(report: CrashReport): string {
  const kinds = FAILURE_KINDS.map((k) => `${k} ${report.failures[k]}`).join(", ");
  const total = FAILURE_KINDS.reduce((sum, k) => sum + report.failures[k], 0);
  return `rounds ${report.rounds}; failures ${total}: ${kinds}`;
}

async function kill(agent: BackgroundCommand): Promise<void> {
  if (agent.running) agent.child.kill("SIGKILL");
  await agent.exited;
}

/** The repository: the applications present, each a Service (a shell that sleeps, its version in its command line) and three Files. */
function repository(names: readonly string[], present: ReadonlySet<string>, versions: ReadonlyMap<string, number>, token: string): Record<string, string | null> {
  const files: Record<string, string | null> = {
    "ferry/applications.yaml": applicationsYaml(...names.filter((n) => present.has(n)).map((name) => ({ name, prune: true, selfHeal: true, interval: "2s" }))),
  };
  for (const name of names) {
    const version = `1.0.${versions.get(name) ?? 1}`;
    const keep = present.has(name);
    files[`apps/${name}/service.yaml`] = keep ? serviceYaml(name, version, token) : null;
    files[`apps/${name}/files.yaml`] = keep
      ? filesYaml(["a", "b", "c"].map((part) => ({ name: `${name}-${part}`, path: `${name}/${part}.txt`, content: `${name} ${part} ${version}` })))
      : null;
  }
  return files;
}

function serviceYaml(name: string, version: string, token: string): string {
  return [
    "apiVersion: host.ferry.dev/v1",
    "kind: Service",
    "metadata:",
    `  name: ${name}`,
    "  labels:",
    `    app.kubernetes.io/version: "${version}"`,
    "spec:",
    "  command: sh",
    `  args: [-c, "sleep 100000; :", ${token}, ${name}, "${version}"]`,
    "  stop:",
    "    gracePeriodSeconds: 2",
    "",
  ].join("\n");
}

/** Waits until every present application is Ready at `head` and no other is known; returns the statuses seen last. */
async function converge(s: Scenario, present: ReadonlySet<string>, head: string, timeoutMs: number): Promise<{ ok: boolean; why: string; list: ApplicationStatus[] }> {
  const deadline = Date.now() + timeoutMs;
  let list: ApplicationStatus[] = [];
  let why = "no answer from the agent";
  for (;;) {
    try {
      list = ((await api(s, "/api/v1/applications")) as { applications: ApplicationStatus[] }).applications;
      const notReady = list.filter((a) => present.has(a.name) && !(isReady(a) && a.sync.revision === head));
      const extra = list.filter((a) => !present.has(a.name));
      const missing = [...present].filter((n) => !list.some((a) => a.name === n));
      why = [
        ...notReady.map((a) => `${a.name} not Ready at head (${a.conditions.find((c) => c.type === "Ready")?.message ?? "?"})`),
        ...extra.map((a) => `${a.name} still known`),
        ...missing.map((n) => `${n} unknown`),
      ].join("; ");
      if (why === "") return { ok: true, why, list };
    } catch (error) {
      why = `agent not answering: ${(error as Error).message}`;
    }
    if (Date.now() > deadline) return { ok: false, why, list };
    await sleep(200);
  }
}

async function api(s: Scenario, path: string): Promise<unknown> {
  const info = JSON.parse(readFileSync(join(s.state, "agent.json"), "utf8")) as { url: string; token: string };
  const response = await fetch(`${info.url}${path}`, { headers: { authorization: `Bearer ${info.token}` }, signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

/** The command lines of every process on the machine carrying the round's token: [application, version] each. */
function servicesRunning(token: string): [string, string][] {
  const found: [string, string][] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let args: string[];
    try {
      args = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
    } catch {
      continue;
    }
    const at = args.indexOf(token);
    // sh runs sleep as its child; only sh carries the token.
    if (at !== -1 && args[0] === "sh") found.push([args[at + 1] ?? "", args[at + 2] ?? ""]);
  }
  return found;
}

function checkProcesses(token: string, names: readonly string[], present: ReadonlySet<string>, versions: ReadonlyMap<string, number>, fail: (kind: FailureKind, what: string) => void): void {
  const running = servicesRunning(token);
  for (const name of names) {
    const mine = running.filter(([app]) => app === name);
    if (!present.has(name)) {
      if (mine.length > 0) fail("left-running", `${name} left Git and still runs (${mine.map(([, v]) => v).join(", ")})`);
      continue;
    }
    if (mine.length === 0) fail("missing-process", `${name} does not run`);
    if (mine.length > 1) fail("duplicate-process", `${name} runs ${mine.length} times (${mine.map(([, v]) => v).join(", ")})`);
    const version = `1.0.${versions.get(name) ?? 1}`;
    if (mine.length === 1 && mine[0]?.[1] !== version) fail("missing-process", `${name} runs ${mine[0]?.[1] ?? "?"}, Git says ${version}`);
  }
}

function checkLeftovers(s: Scenario, names: readonly string[], present: ReadonlySet<string>, fail: (kind: FailureKind, what: string) => void): void {
  for (const name of names) {
    if (present.has(name)) continue;
    const dir = join(s.root, name);
    const left = listFiles(dir);
    if (left.length > 0) fail("left-running", `files of ${name}, which left Git, remain: ${left.join(", ")}`);
  }
  for (const file of [...listFiles(s.state), ...listFiles(s.root)]) {
    const base = file.split("/").pop() ?? "";
    if (base.endsWith(".tmp") || base.startsWith(".tmp-")) fail("temporary-file", file);
  }
}

function listFiles(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name));
  } catch {
    return [];
  }
}

/** Every version running must be in the history as a successful sync of its application. */
async function checkHistory(s: Scenario, present: ReadonlySet<string>, versions: ReadonlyMap<string, number>, fail: (kind: FailureKind, what: string) => void): Promise<void> {
  for (const name of present) {
    const version = `1.0.${versions.get(name) ?? 1}`;
    let page: Page<HistoryEntry>;
    try {
      page = (await api(s, `/api/v1/history?application=${name}&type=SyncFinished&limit=200`)) as Page<HistoryEntry>;
    } catch (error) {
      fail("history", `${name}: ${(error as Error).message}`);
      continue;
    }
    if (page.items.some((e) => e.outcome === "Succeeded" && e.versions?.includes(version))) continue;
    // Told apart: the saved status reports the sync the history lacks (its event was still in the recorder's memory at the kill).
    if (savedSyncOf(s, name)?.includes(version)) fail("history-after-status", `${name} runs ${version}; its saved status reports the sync, the history does not have it`);
    else fail("history", `${name} runs ${version}, and no successful sync of it is recorded`);
  }
}

/** The versions of the last successful sync the application's saved record reports. */
function savedSyncOf(s: Scenario, name: string): readonly string[] | undefined {
  try {
    const record = JSON.parse(readFileSync(join(s.state, "apps", `${name}.json`), "utf8")) as { status?: ApplicationStatus };
    const last = record.status?.lastSync;
    return last?.outcome === "Succeeded" ? last.versions : undefined;
  } catch {
    return undefined;
  }
}
