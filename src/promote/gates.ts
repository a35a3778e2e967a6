import type { PipelineStep } from "../config/pipeline.js";
import type { HealthStatus } from "../core/health.js";
import type { StepRecord, VerificationRecord } from "./promotion-state.js";

/** What the controller observed of one environment's application, gathered at the edge. */
export interface EnvironmentObservation {
  /** The hold's reason, when the application is on hold. */
  readonly held?: string;
  /** The marked values in the environment's files at the branch head. */
  readonly headValues?: Readonly<Record<string, string>>;
  /** The marked values at the revision the application last synced successfully. */
  readonly syncedValues?: Readonly<Record<string, string>>;
  /** The marked values at the revision of the last sync attempt, with its outcome. */
  readonly lastSync?: { readonly values: Readonly<Record<string, string>>; readonly outcome: "Succeeded" | "Failed"; readonly message: string };
  readonly ready: boolean;
  readonly health: { readonly status: HealthStatus; readonly message: string };
  /** The health of the verification job in the inventory (its run in the sync), when the step names one. */
  readonly job?: { readonly status: HealthStatus; readonly message: string };
  /** The run of the verification job started for this step, once there is one. */
  readonly run?: VerificationRecord;
  /** Results of the step's HTTP checks, when they were run for this observation. */
  readonly http?: readonly { readonly ok: boolean; readonly message: string }[];
}

/** What a gate decided about one step. */
export type GateVerdict =
  | { readonly kind: "wait"; readonly phase: StepRecord["phase"]; readonly message: string; readonly runHttp?: boolean; readonly startRun?: boolean }
  | { readonly kind: "advance"; readonly phase: "Verifying" | "Soaking" | "Passed"; readonly gate: string; readonly message: string }
  | { readonly kind: "fail"; readonly reason: string; readonly gate: string; readonly message: string };

/** Runs of a verification started for one step before a run lost each time (its agent stopped, its Job deleted) fails it. */
export const MAX_RUN_ATTEMPTS = 3;

/** True when every expected value is there, equal. */
export function valuesMatch(actual: Readonly<Record<string, string>> | undefined, expected: Readonly<Record<string, string>>): boolean {
  if (!actual) return false;
  return Object.entries(expected).every(([field, value]) => actual[field] === value);
}

/**
 * The gates of one step, in order: merged (pull-request mode), synced and
 * healthy at the expected values, verified (the job's exit code, the HTTP
 * checks), soaked. Decides from the observation and the clock alone. Pure.
 */
export function evaluateGates(
  step: PipelineStep,
  record: StepRecord,
  expected: Readonly<Record<string, string>>,
  observation: EnvironmentObservation,
  now: number,
): GateVerdict {
  const env = step.environment;
  const written = Date.parse(record.writtenAt ?? record.since);
  const overdue = now - written > step.verify.timeoutMs;
  const seconds = Math.round(step.verify.timeoutMs / 1000);
  switch (record.phase) {
    case "AwaitingMerge":
      if (valuesMatch(observation.headValues, expected)) return { kind: "wait", phase: "Syncing", message: `merged: waiting for ${env} to sync it` };
      return { kind: "wait", phase: "AwaitingMerge", message: `waiting for ${record.branch ?? "the pull request"} to be merged` };
    case "Syncing": {
      const last = observation.lastSync;
      if (last && last.outcome === "Failed" && valuesMatch(last.values, expected)) {
        // The smoke test is what failed only when the sync says so: the job may still show an older run's failure.
        if (step.verify.job && observation.job?.status === "Degraded" && last.message.includes(step.verify.job)) {
          return { kind: "fail", reason: "VerificationFailed", gate: "verify", message: `smoke test job ${step.verify.job} failed in ${env}: ${observation.job.message}` };
        }
        return { kind: "fail", reason: "SyncFailed", gate: "synced", message: `${env} (${step.application}) failed to sync the new version: ${last.message}` };
      }
      if (valuesMatch(observation.syncedValues, expected) && observation.ready && observation.health.status === "Healthy") {
        const next = step.verify.job !== undefined || step.verify.http.length > 0 ? "Verifying" : step.soakMs > 0 ? "Soaking" : "Passed";
        return { kind: "advance", phase: next, gate: "synced", message: `${env} synced the new version and is healthy` };
      }
      if (overdue) {
        const where = valuesMatch(observation.syncedValues, expected) ? `is ${observation.health.status}: ${observation.health.message}` : "has not synced it";
        return { kind: "fail", reason: "Timeout", gate: "synced", message: `${env} (${step.application}) ${where} after ${seconds}s` };
      }
      return { kind: "wait", phase: "Syncing", message: `waiting for ${step.application} to sync and become healthy` };
    }
    case "Verifying": {
      if (step.verify.job !== undefined) {
        // Judged by a run started for this version, never by whatever run of the Job came before.
        const run = observation.run;
        if (run?.status === "lost" && run.attempt >= MAX_RUN_ATTEMPTS) {
          return { kind: "fail", reason: "VerificationFailed", gate: "verify", message: `smoke test job ${step.verify.job} in ${env} was lost ${run.attempt} times in a row (last: run ${run.runId}: ${run.message})` };
        }
        if (run === undefined || run.status === "lost") {
          if (overdue) return { kind: "fail", reason: "Timeout", gate: "verify", message: `smoke test job ${step.verify.job} could not be run in ${env} within ${seconds}s${record.message ? `: ${record.message}` : ""}` };
          return { kind: "wait", phase: "Verifying", message: `starting smoke test job ${step.verify.job}`, startRun: true };
        }
        if (run.status === "failed") {
          const output = run.output ? `; last output:\n${run.output}` : "";
          return { kind: "fail", reason: "VerificationFailed", gate: "verify", message: `smoke test job ${step.verify.job} failed in ${env}: ${run.message} (run ${run.runId})${output}` };
        }
        if (run.status === "running") {
          if (overdue) return { kind: "fail", reason: "Timeout", gate: "verify", message: `smoke test job ${step.verify.job} did not finish in ${env} after ${seconds}s (run ${run.runId})` };
          return { kind: "wait", phase: "Verifying", message: `waiting for smoke test job ${step.verify.job} (run ${run.runId})` };
        }
      }
      if (step.verify.http.length > 0) {
        if (!observation.http) return { kind: "wait", phase: "Verifying", message: "running the HTTP checks", runHttp: true };
        const failed = observation.http.find((r) => !r.ok);
        if (failed) {
          if (overdue) return { kind: "fail", reason: "VerificationFailed", gate: "verify", message: `HTTP check failed in ${env}: ${failed.message}` };
          return { kind: "wait", phase: "Verifying", message: `HTTP check not passing yet: ${failed.message}`, runHttp: true };
        }
      }
      return { kind: "advance", phase: step.soakMs > 0 ? "Soaking" : "Passed", gate: "verify", message: `${env} passed its verification` };
    }
    case "Soaking": {
      if (observation.health.status !== "Healthy" || !valuesMatch(observation.syncedValues, expected)) {
        return { kind: "fail", reason: "Unhealthy", gate: "soak", message: `${env} became ${observation.health.status} during its soak time: ${observation.health.message}` };
      }
      const until = Date.parse(record.verifiedAt ?? record.since) + step.soakMs;
      if (now >= until) return { kind: "advance", phase: "Passed", gate: "soak", message: `${env} stayed healthy for ${Math.round(step.soakMs / 1000)}s` };
      return { kind: "wait", phase: "Soaking", message: `soaking until ${new Date(until).toISOString()}` };
    }
    default:
      return { kind: "wait", phase: record.phase, message: record.message ?? "" };
  }
}
