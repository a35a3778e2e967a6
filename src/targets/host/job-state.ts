import { open } from "node:fs/promises";
import type { Health } from "../../core/health.js";
import type { JobSpec } from "./host-schemas.js";
import type { ProcessDesired } from "./service-state.js";
import { describeProcess } from "./service-state.js";

/** A Job as it is run: the normalized spec with the working directory resolved. */
export interface JobDesired extends ProcessDesired {
  readonly timeoutSeconds: number;
}

/** How the last run of a job ended, or that it is still under way. */
export type JobOutcome =
  | { readonly status: "running"; readonly pid: number; readonly startTime: string }
  | { readonly status: "succeeded" }
  | {
      readonly status: "failed";
      readonly exitCode: number | null;
      readonly signal: string | null;
      readonly timedOut: boolean;
      /** The last lines of its output, for the error message. */
      readonly outputTail: string;
    };

/**
 * What the state directory holds for one Job: the last run, for the spec it
 * ran. Secret env values are not kept: `desired.env` holds their sealed
 * digests (see record-seal.ts), enough to know the spec is unchanged.
 */
export interface JobRecord {
  readonly name: string;
  readonly owner: string;
  /** The spec it ran, with the values of the variables `sealedEnv` names sealed. */
  readonly desired: JobDesired;
  /** Sorted names of the env variables whose values `desired.env` holds sealed. */
  readonly sealedEnv: readonly string[];
  /** ISO times. */
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly outcome: JobOutcome;
}

/** Builds the desired state of a Job from its spec; with an artifact (unpacked in `artifactDir`), `$FERRY_ARTIFACT_DIR` names it. */
export function describeJob(spec: JobSpec, workingDir: string, artifactDir?: string): JobDesired {
  return {
    ...describeProcess(spec, workingDir, artifactDir),
    timeoutSeconds: spec.timeoutSeconds,
  };
}

/** `exited with code 3` or `timed out after 5s`: how a failed run ended. */
export function describeFailure(record: JobRecord): string {
  const outcome = record.outcome;
  if (outcome.status !== "failed") return "did not fail";
  if (outcome.timedOut) return `timed out after ${record.desired.timeoutSeconds}s and was killed`;
  if (outcome.exitCode !== null) return `exited with code ${outcome.exitCode}`;
  return `was killed by signal ${outcome.signal ?? "unknown"}`;
}

/** The error message of a failed run: how it ended and what it said last. */
export function jobFailureMessage(record: JobRecord): string {
  const tail = record.outcome.status === "failed" ? record.outcome.outputTail : "";
  const output = tail === "" ? "it printed nothing" : `last output:\n${tail}`;
  return `job ${record.name} ${describeFailure(record)}; it runs again when its spec changes; ${output}`;
}

/** Health of a job from its record; `running` says whether a run is under way right now. */
export function jobHealth(record: JobRecord | undefined, running: boolean): Health {
  if (running) return { status: "Progressing", message: "running" };
  if (!record) return { status: "Missing", message: "never ran" };
  switch (record.outcome.status) {
    case "succeeded":
      return { status: "Healthy", message: `completed at ${record.finishedAt ?? record.startedAt}` };
    case "failed":
      return { status: "Degraded", message: describeFailure(record) };
    case "running":
      return { status: "Degraded", message: "its last run was interrupted; it runs again on the next apply" };
  }
}

/** The last `count` non-empty lines of some output, each indented for reading inside a message. */
export function lastLines(output: string, count: number): string {
  return output
    .split(/\r?\n/)
    .filter((line) => line.trim() !== "")
    .slice(-count)
    .map((line) => `  ${line}`)
    .join("\n");
}

/** The end of a log: enough for the last lines without reading a large file whole. */
export async function readTail(path: string, bytes = 8192): Promise<string> {
  const handle = await open(path, "r").catch(() => undefined);
  if (!handle) return "";
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer.toString("utf8");
  } finally {
    await handle.close();
  }
}
