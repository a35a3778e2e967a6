import { rm } from "node:fs/promises";
import { stalled, waiting } from "../../core/errors.js";
import type { RenderedObject } from "../../core/objects.js";
import type { ApplyOutcome } from "../target.js";
import { parseHostSpec } from "./host-validate.js";
import type { JobDesired, JobOutcome, JobRecord } from "./job-state.js";
import { describeJob, jobFailureMessage, jobHealth, lastLines, readTail } from "./job-state.js";
import type { HostEnvironment, KindHandler } from "./kind-handler.js";
import { assertOwner, nameOf, prepareToRun, resolveWorkingDir } from "./kind-handler.js";
import type { ProcessIdentity } from "./processes.js";
import { splitHostId } from "./host-ids.js";
import { findMarkedProcesses, isAlive, OWNER_MARK_ENV, ownerMark, signalGroup } from "./processes.js";
import { recordMatches, sealDesired, secretEnvNames } from "./sealed-env.js";
import { processEnv } from "./service-supervisor.js";
import { spawnDetached } from "./spawn-detached.js";
import { toComparable } from "./service-state.js";

/** A record as found on disk: one written before secret values were sealed has no `sealedEnv` and a `digest`. */
type StoredJobRecord = Omit<JobRecord, "sealedEnv"> & { readonly sealedEnv?: readonly string[]; readonly digest?: string };

/** The desired state of a Job object: its spec, with the working directory resolved. */
export function jobDesiredOf(env: HostEnvironment, object: RenderedObject): JobDesired {
  const spec = parseHostSpec("Job", object, env.root);
  const { workingDir, artifactDir } = resolveWorkingDir(env, spec, object);
  return describeJob(spec, workingDir, artifactDir);
}

/** Handles `Job` objects: each spec runs once, to completion, and its result is kept. */
export function createJobHandler(env: HostEnvironment): KindHandler {
  /** Runs under way in this agent, by job name. */
  const runs = new Map<string, ProcessIdentity>();
  const desiredOf = (object: RenderedObject): JobDesired => jobDesiredOf(env, object);

  /** Runs the job with its full desired state (`desired`); the record keeps `sealed`, without secret values. */
  async function run(name: string, owner: string, desired: JobDesired, sealed: { desired: JobDesired; sealedEnv: readonly string[] }): Promise<JobRecord> {
    const logPath = env.store.logPath("Job", name);
    const { child, identity } = await spawnDetached({
      command: desired.command,
      args: desired.args,
      cwd: desired.workingDir,
      // Marked, so a run a killed agent started but never recorded is found instead of started a second time.
      env: { ...processEnv(desired.env), [OWNER_MARK_ENV]: ownerMark(env.stateId, owner, "Job", name) },
      logPath,
      logMode: "truncate",
    });
    // The apply that started the run waits for it, so the run keeps the event loop alive meanwhile.
    child.ref();
    runs.set(name, identity);
    const started: JobRecord = { name, owner, desired: sealed.desired, sealedEnv: sealed.sealedEnv, startedAt: new Date().toISOString(), outcome: { status: "running", ...identity } };
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
      child.once("exit", (code, signal) => resolve({ code, signal }));
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      signalGroup(identity.pid, "SIGKILL");
    }, desired.timeoutSeconds * 1000);
    try {
      await env.store.write("Job", name, started);
      const { code, signal } = await exited;
      const outcome: JobOutcome =
        code === 0 && !timedOut
          ? { status: "succeeded" }
          : { status: "failed", exitCode: code, signal, timedOut, outputTail: lastLines(await readTail(logPath), 10) };
      const finished: JobRecord = { ...started, finishedAt: new Date().toISOString(), outcome };
      await env.store.write("Job", name, finished);
      return finished;
    } finally {
      clearTimeout(timer);
      runs.delete(name);
    }
  }

  /**
   * The result of a job of this application recorded in the default namespace
   * before it moved into one (its Application's spec.namespace was set),
   * carried over so a job that ran is not run again for the move.
   */
  async function movedFromDefaultNamespace(id: string, application: string): Promise<JobRecord | undefined> {
    const { namespace, name } = splitHostId(id);
    const before = namespace === undefined ? undefined : await env.store.read<JobRecord>("Job", name);
    if (!before || before.owner !== application || before.outcome.status === "running") return undefined;
    const moved: JobRecord = { ...before, name: id };
    await env.store.write("Job", id, moved);
    return moved;
  }

  return {
    async start() {
      for (const name of await env.store.list("Job")) {
        const record = await env.store.read<StoredJobRecord>("Job", name);
        if (!record || record.sealedEnv !== undefined) continue;
        // Written before records sealed secret values: which variables are secret is not recorded, so every value is sealed.
        const { digest: _digest, ...rest } = record;
        const sealed = sealDesired(record.desired, Object.keys(record.desired.env), env.sealer);
        await env.store.write("Job", name, { ...rest, desired: sealed.desired, sealedEnv: sealed.sealedEnv } satisfies JobRecord);
      }
    },

    async describe(object) {
      const desired = desiredOf(object);
      const record = await env.store.read<JobRecord>("Job", nameOf(object));
      // Sealed as the record is (and as the object says), so an unchanged job compares equal to read().
      const names = [...secretEnvNames(object, desired.env), ...(record?.sealedEnv ?? [])];
      return toComparable(sealDesired(desired, names, env.sealer).desired);
    },

    async apply(object, context): Promise<ApplyOutcome> {
      const name = nameOf(object);
      const desired = desiredOf(object);
      const sealed = sealDesired(desired, secretEnvNames(object, desired.env), env.sealer);
      const record = (await env.store.read<JobRecord>("Job", name)) ?? (await movedFromDefaultNamespace(name, context.application));
      assertOwner("Job", name, record?.owner, context.application);
      if (record?.outcome.status === "running" && isAlive(record.outcome)) {
        throw waiting("JobRunning", `job ${name} is still running from an earlier start (pid ${record.outcome.pid}); waiting for it to finish`);
      }
      const unrecorded = runs.has(name) ? undefined : (await findMarkedProcesses(env.stateId)).find((p) => p.kind === "Job" && p.name === name);
      if (unrecorded) {
        throw waiting("JobRunning", `job ${name} is still running from a start an earlier agent did not record (pid ${unrecorded.pid}); waiting for it to finish`);
      }
      if (record && recordMatches(desired, record, env.sealer)) {
        if (record.outcome.status === "succeeded") {
          if (sealed.sealedEnv.join("\0") === record.sealedEnv.join("\0")) return "unchanged";
          // Which variables are secret changed, their values did not: the record changes, the job does not run again.
          await env.store.write("Job", name, { ...record, desired: sealed.desired, sealedEnv: sealed.sealedEnv } satisfies JobRecord);
          return "configured";
        }
        // A failed run is not retried until the spec changes; the error stays until then.
        if (record.outcome.status === "failed") throw stalled("JobFailed", jobFailureMessage(record));
      }
      await prepareToRun(env, object, desired, processEnv(desired.env));
      const finished = await run(name, context.application, desired, sealed);
      if (desired.artifact || record?.desired.artifact) await env.collectArtifacts();
      if (finished.outcome.status !== "succeeded") throw stalled("JobFailed", jobFailureMessage(finished));
      return record ? "configured" : "created";
    },

    async read(name) {
      const record = await env.store.read<JobRecord>("Job", name);
      return record ? { state: toComparable(record.desired), owner: record.owner } : undefined;
    },

    async owned(application) {
      const names: string[] = [];
      for (const name of await env.store.list("Job")) if ((await env.store.read<JobRecord>("Job", name))?.owner === application) names.push(name);
      return names;
    },

    async health(name) {
      const record = await env.store.read<JobRecord>("Job", name);
      const leftover = record?.outcome.status === "running" && isAlive(record.outcome);
      return jobHealth(record, runs.has(name) || leftover);
    },

    async delete(name, application) {
      const record = await env.store.read<JobRecord>("Job", name);
      if (!record || record.owner !== application) return;
      const running = runs.get(name) ?? (record.outcome.status === "running" ? record.outcome : undefined);
      if (running && isAlive(running)) signalGroup(running.pid, "SIGKILL");
      await env.store.remove("Job", name);
      await rm(env.store.logPath("Job", name), { force: true });
      await env.collectArtifacts();
    },

    async stopAll() {
      for (const identity of runs.values()) if (isAlive(identity)) signalGroup(identity.pid, "SIGKILL");
    },

    close() {},
  };
}
