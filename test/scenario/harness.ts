import type { ChildProcess } from "node:child_process";
import { execFile, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { Condition } from "../../src/core/conditions.js";
import type { ApplicationStatus } from "../../src/engine/status.js";
import { createHostTarget } from "../../src/targets/host/host-target.js";
import { scaled } from "../support/deadline.js";

export { freePort } from "../support/free-port.js";
export { scaled } from "../support/deadline.js";

/** The compiled CLI, as users run it: dist/src/cli/main.js, seen from dist/test/scenario/. */
export const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

/** How long a condition may take to show on a loaded machine before a scenario gives up. */
export const DEADLINE_MS = scaled(20_000);

const GIT_IDENTITY = ["-c", "user.name=Ferry Scenario", "-c", "user.email=scenario@ferry.invalid", "-c", "commit.gpgsign=false"];

/** The outcome of one CLI run. */
export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Both streams of a CLI run, for assertions and failure messages. */
export function outputOf(result: CliResult): string {
  return `${result.stdout}\n${result.stderr}`;
}

/** Runs `ferry <args>` to completion (killed after `timeoutMs`), with `env` added to the test's environment. */
export function runCli(args: readonly string[], options: { cwd: string; timeoutMs?: number; env?: Readonly<Record<string, string>> }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"], ...(options.env ? { env: { ...process.env, ...options.env } } : {}) });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** GET a URL on loopback; undefined while nothing answers. */
export async function httpGet(port: number, path = "/"): Promise<string | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(3000) });
    return res.ok ? await res.text() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Polls `probe` until it returns something other than undefined or false, and
 * returns that. On timeout, fails naming what it waited for, the last value
 * seen and `context()` (e.g. the agent's output).
 */
export async function waitFor<T>(
  description: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs?: number; intervalMs?: number; context?: () => string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? DEADLINE_MS);
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      last = value;
    } catch (error) {
      last = error instanceof Error ? error.message : error;
    }
    if (Date.now() > deadline) {
      const seen = typeof last === "string" ? last : JSON.stringify(last);
      throw new Error(`timed out after ${options.timeoutMs ?? DEADLINE_MS} ms waiting for ${description}; last seen: ${seen}${options.context ? `\n${options.context()}` : ""}`);
    }
    await sleep(options.intervalMs ?? 200);
  }
}

/** True while a process with this pid exists (a zombie counts as gone). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** Pids of the live processes whose working directory is `dir`: the services Ferry started there. */
export function processesIn(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/cwd`) === dir && isRunning(Number(entry))) pids.push(Number(entry));
    } catch {
      continue;
    }
  }
  return pids;
}

/** The files under `dir` (but those under the relative paths of `skip`) whose bytes contain `needle`, relative to `dir`. */
export function filesContaining(dir: string, needle: string, skip: readonly string[] = []): string[] {
  const found: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (skip.includes(relative(dir, p))) continue;
      if (statSync(p).isDirectory()) walk(p);
      else if (readFileSync(p).includes(needle)) found.push(relative(dir, p));
    }
  };
  walk(dir);
  return found;
}

/** The condition of a type, if present. */
export function condition(status: ApplicationStatus, type: string): Condition | undefined {
  return status.conditions.find((c) => c.type === type);
}

/** True when Ready is True. */
export function isReady(status: ApplicationStatus): boolean {
  return condition(status, "Ready")?.status === "True";
}

/** A `ferry` command running in the background (an agent, a quickstart), its output captured for assertions and failure messages. */
export class BackgroundCommand {
  readonly child: ChildProcess;
  #output = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: readonly string[], cwd: string) {
    this.child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    this.child.stdout?.on("data", (chunk: Buffer) => (this.#output += chunk.toString("utf8")));
    this.child.stderr?.on("data", (chunk: Buffer) => (this.#output += chunk.toString("utf8")));
    this.exited = new Promise((resolve) => this.child.once("exit", (code, signal) => resolve({ code, signal })));
  }

  /** Everything the command printed so far (stdout and stderr interleaved). */
  get output(): string {
    return this.#output;
  }

  /** The events printed by an agent started with `-o json`, in order. */
  events(): Record<string, unknown>[] {
    return this.#output
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  }

  /** True until the process exits. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM, as Ctrl-C or a service manager would; SIGKILL when it does not stop in time. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 15_000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * One scenario's world: a Git repository, the host target's root, the
 * agent's state directory, all under one temporary directory.
 */
export class Scenario {
  readonly dir: string;
  readonly repo: string;
  readonly root: string;
  readonly state: string;
  readonly agents: BackgroundCommand[] = [];

  private constructor(dir: string) {
    this.dir = dir;
    this.repo = join(dir, "repo");
    this.root = join(dir, "root");
    this.state = join(dir, "state");
  }

  /** A fresh scenario with an empty repository on branch main. */
  static async create(): Promise<Scenario> {
    const scenario = new Scenario(await mkdtemp(join(tmpdir(), "ferry-scenario-")));
    await mkdir(scenario.repo, { recursive: true });
    await scenario.git("init", "-q", "-b", "main");
    return scenario;
  }

  /** The last agent started. */
  get agent(): BackgroundCommand {
    const agent = this.agents.at(-1);
    if (!agent) throw new Error("no agent was started in this scenario");
    return agent;
  }

  /** Runs git in the repository as the scenario's author. */
  git(...args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile("git", [...GIT_IDENTITY, ...args], { cwd: this.repo }, (error, stdout, stderr) => {
        if (error) reject(new Error(`git ${args.join(" ")} failed: ${stderr || error.message}`));
        else resolve(stdout);
      });
    });
  }

  /** Writes (or deletes, for null) files of the working tree. */
  async write(files: Readonly<Record<string, string | null>>): Promise<void> {
    for (const [path, content] of Object.entries(files)) {
      const full = join(this.repo, path);
      if (content === null) await rm(full, { force: true });
      else {
        await mkdir(dirname(full), { recursive: true });
        await writeFile(full, content);
      }
    }
  }

  /** Writes the files, commits everything (signed, with `signing` as git `-c` settings) and returns the new commit id. */
  async commit(message: string, files: Readonly<Record<string, string | null>> = {}, signing?: readonly string[]): Promise<string> {
    await this.write(files);
    await this.git("add", "--all");
    await this.git(...(signing ?? []), "commit", "-q", "--allow-empty", ...(signing ? ["-S"] : []), "-m", message);
    return this.head();
  }

  /** The commit main points to. */
  async head(): Promise<string> {
    return (await this.git("rev-parse", "HEAD")).trim();
  }

  /** A file of the repository at HEAD's working tree. */
  read(path: string): string {
    return readFileSync(join(this.repo, path), "utf8");
  }

  /** Runs `ferry --state-dir <state> <args>`. */
  ferry(...args: string[]): Promise<CliResult> {
    return runCli(["--state-dir", this.state, ...args], { cwd: this.dir });
  }

  /** Runs `ferry --state-dir <state> <args>` with variables added to its environment (a person's GIT_AUTHOR_NAME, ...). */
  ferryWith(env: Readonly<Record<string, string>>, ...args: string[]): Promise<CliResult> {
    return runCli(["--state-dir", this.state, ...args], { cwd: this.dir, env });
  }

  /** The arguments of `ferry agent` for this scenario. */
  agentArgs(options: { interval?: string; json?: boolean; once?: boolean; extra?: readonly string[] } = {}): string[] {
    return [
      "--state-dir",
      this.state,
      "agent",
      "--repo",
      this.repo,
      "--path",
      "ferry",
      "--root",
      this.root,
      "--interval",
      options.interval ?? "300ms",
      "--health-timeout",
      "20s",
      ...(options.json ? ["-o", "json"] : []),
      ...(options.once ? ["--once"] : []),
      ...(options.extra ?? []),
    ];
  }

  /** Starts `ferry agent` in the background. */
  startAgent(options: { interval?: string; json?: boolean; extra?: readonly string[] } = {}): BackgroundCommand {
    const agent = new BackgroundCommand(this.agentArgs(options), this.dir);
    this.agents.push(agent);
    return agent;
  }

  /** The output of every agent of the scenario, for failure messages. */
  agentOutput(): string {
    return this.agents.map((a, i) => `--- agent ${i + 1} output ---\n${a.output.slice(-6000)}`).join("\n");
  }

  /**
   * Waits until `agent` (started with `json: true`) has finished its first run
   * of `application` and an interval run after it found nothing changed
   * (ferry_interval_verified_total): the application needs a short interval.
   */
  waitForFirstRunOver(agent: BackgroundCommand, application: string): Promise<true> {
    return this.waitFor(`the agent to finish its first run of ${application} and verify it at the next interval`, async () => {
      const started = agent.events().some((e) => e.type === "Progress" && e.application === application && e.message === "fetching source");
      return started && (await this.metric("ferry_interval_verified_total").catch(() => 0)) >= 1;
    });
  }

  /** A counter or gauge without labels of the running agent's /metrics (read with its token from agent.json). */
  async metric(name: string): Promise<number> {
    const info = JSON.parse(readFileSync(join(this.state, "agent.json"), "utf8")) as { url: string; token: string };
    const res = await fetch(`${info.url}/metrics`, { headers: { authorization: `Bearer ${info.token}` }, signal: AbortSignal.timeout(5000) });
    const match = new RegExp(`^${name} (\\d+(?:\\.\\d+)?)$`, "m").exec(await res.text());
    if (!match) throw new Error(`no ${name} in /metrics`);
    return Number(match[1]);
  }

  /** `ferry status <app> -o json`, parsed. */
  async status(app: string): Promise<ApplicationStatus> {
    const result = await this.ferry("status", app, "-o", "json");
    if (result.code !== 0 && result.code !== 1) throw new Error(`ferry status ${app} exited ${result.code}: ${outputOf(result)}`);
    return JSON.parse(result.stdout) as ApplicationStatus;
  }

  /** Polls until `probe` holds; a timeout reports `detail()` (the last state seen) and the agents' output. */
  waitFor<T>(description: string, probe: () => Promise<T | undefined | false> | T | undefined | false, detail?: () => string, timeoutMs = DEADLINE_MS): Promise<T> {
    return waitFor(description, probe, { timeoutMs, context: () => `${detail ? `last state: ${detail()}\n` : ""}${this.agentOutput()}` });
  }

  /** Waits until the application is Ready at `revision` (or any revision), and returns its status. */
  waitForReady(app: string, revision?: string): Promise<ApplicationStatus> {
    return this.waitForStatus(app, `Ready${revision ? ` at ${revision.slice(0, 8)}` : ""}`, (s) => isReady(s) && (!revision || s.sync.revision === revision));
  }

  /** Polls `ferry status <app> -o json` until `accept` holds; returns that status. */
  waitForStatus(app: string, description: string, accept: (status: ApplicationStatus) => boolean): Promise<ApplicationStatus> {
    let last: ApplicationStatus | undefined;
    return this.waitFor(
      `${app}: ${description}`,
      async () => {
        last = await this.status(app);
        return accept(last) ? last : undefined;
      },
      () => JSON.stringify(last ? { conditions: last.conditions, sync: last.sync, lastAttemptedRevision: last.lastAttemptedRevision, drift: last.drift, problems: last.problems } : null),
    );
  }

  /** Polls a URL until its answer satisfies `accept`; returns the answer. */
  waitForHttp(port: number, accept: (body: string) => boolean, description: string): Promise<string> {
    let last: string | undefined;
    return this.waitFor(
      `${description} (http://127.0.0.1:${port}/)`,
      async () => {
        last = await httpGet(port);
        return last !== undefined && accept(last) ? last : undefined;
      },
      () => `answer ${JSON.stringify(last ?? null)}`,
    );
  }

  /** Stops every agent, then every service the host target started, and removes the directory. */
  async cleanup(): Promise<void> {
    for (const agent of this.agents) await agent.stop();
    if (existsSync(join(this.state, "host"))) {
      const host = createHostTarget({ root: this.root, stateDir: join(this.state, "host") });
      await host.stopAll();
      await host.close();
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}
