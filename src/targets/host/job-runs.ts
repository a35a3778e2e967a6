import { readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import type { JobRun, JobRunRequest } from "../target.js";
import { writeFileAtomic } from "./atomic-write.js";
import type { JobDesired } from "./job-state.js";
import { lastLines, readTail } from "./job-state.js";
import type { ProcessIdentity } from "./processes.js";
import { isAlive, signalGroup } from "./processes.js";
import { processEnv } from "./service-supervisor.js";
import { spawnDetached } from "./spawn-detached.js";

/** How many runs of one Job are kept (their records and logs); older ones are removed. */
export const KEPT_RUNS = 5;

/** A run as its record keeps it: the JobRun and the process while it runs. */
interface RunRecord extends JobRun {
  readonly process?: ProcessIdentity;
}

/**
 * Runs of Jobs started on demand (a promotion's verification), apart from the
 * Job's own record: `runs/<job>/<id>.json` and `<id>.log` in the target's
 * state directory, the newest KEPT_RUNS of each Job kept. A run is detached
 * like every process of the host target; one whose process is gone without a
 * result (the agent stopped meanwhile) reads as `lost`.
 */
export class JobRuns {
  readonly #dir: string;
  readonly #running = new Map<string, ProcessIdentity>();

  constructor(stateDir: string) {
    this.#dir = path.join(stateDir, "runs");
  }

  /** Starts a run of the job under `request.id`, unless that run exists; returns it. */
  async start(job: string, desired: JobDesired, request: JobRunRequest): Promise<JobRun> {
    const known = await this.get(job, request.id);
    if (known) return known;
    const logPath = this.#file(job, request.id, "log");
    const { child, identity } = await spawnDetached({
      command: desired.command,
      args: desired.args,
      cwd: desired.workingDir,
      env: processEnv({ ...desired.env, ...request.env }),
      logPath,
      logMode: "truncate",
    });
    const key = `${job}\0${request.id}`;
    this.#running.set(key, identity);
    const started: RunRecord = { id: request.id, name: logPath, status: "running", startedAt: new Date().toISOString(), message: `running (pid ${identity.pid})`, process: identity };
    await this.#write(job, started);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      signalGroup(identity.pid, "SIGKILL");
    }, desired.timeoutSeconds * 1000);
    timer.unref();
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      void (async () => {
        const output = lastLines(await readTail(logPath), 10);
        const succeeded = code === 0 && !timedOut;
        const how = timedOut ? `timed out after ${desired.timeoutSeconds}s and was killed` : code !== null ? `exited with code ${code}` : `was killed by signal ${signal ?? "unknown"}`;
        const finished: RunRecord = {
          id: request.id,
          name: logPath,
          status: succeeded ? "succeeded" : "failed",
          startedAt: started.startedAt,
          finishedAt: new Date().toISOString(),
          message: succeeded ? "exited with code 0" : how,
          ...(output !== "" ? { output } : {}),
        };
        await this.#write(job, finished);
      })()
        .catch(() => undefined)
        .finally(() => this.#running.delete(key));
    });
    await this.#prune(job);
    return started;
  }

  /** The run of the job with that id; undefined when there is none. */
  async get(job: string, id: string): Promise<JobRun | undefined> {
    let record: RunRecord;
    try {
      record = JSON.parse(await readFile(this.#file(job, id, "json"), "utf8")) as RunRecord;
    } catch {
      return undefined;
    }
    const { process: identity, ...run } = record;
    if (run.status !== "running" || !identity) return run;
    if (this.#running.has(`${job}\0${id}`) || isAlive(identity)) return run;
    return { ...run, status: "lost", message: "the run ended without its result being kept (the agent stopped while it ran)" };
  }

  /** Kills the runs under way in this agent (their records say lost). */
  stopAll(): void {
    for (const identity of this.#running.values()) if (isAlive(identity)) signalGroup(identity.pid, "SIGKILL");
  }

  /** Removes the runs of a job that left Git. */
  async remove(job: string): Promise<void> {
    await rm(path.join(this.#dir, encodeURIComponent(job)), { recursive: true, force: true });
  }

  #file(job: string, id: string, extension: "json" | "log"): string {
    return path.join(this.#dir, encodeURIComponent(job), `${encodeURIComponent(id)}.${extension}`);
  }

  async #write(job: string, record: RunRecord): Promise<void> {
    await writeFileAtomic(this.#file(job, record.id, "json"), JSON.stringify(record, null, 2) + "\n", 0o600);
  }

  /** Keeps the newest KEPT_RUNS runs of the job (a run under way is never removed). */
  async #prune(job: string): Promise<void> {
    const dir = path.join(this.#dir, encodeURIComponent(job));
    const ids = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith(".json")).map((f) => decodeURIComponent(f.slice(0, -".json".length)));
    const runs = (await Promise.all(ids.map((id) => this.get(job, id)))).filter((r): r is JobRun => r !== undefined);
    runs.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
    for (const old of runs.slice(KEPT_RUNS)) {
      if (old.status === "running") continue;
      await rm(this.#file(job, old.id, "json"), { force: true });
      await rm(this.#file(job, old.id, "log"), { force: true });
    }
  }
}
