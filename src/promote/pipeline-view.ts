import type { Pipeline, PipelineStep } from "../config/pipeline.js";
import type { HoldStatus, Suspension } from "../engine/status.js";
import type { PromotionRecord, StepPhase, StepRecord, VerificationRecord } from "./promotion-state.js";

/** One gate of one environment, as `ferry pipeline status` shows it. */
export interface GateView {
  readonly gate: "approval" | "promotion" | "synced" | "verify" | "soak";
  readonly state: "pending" | "waiting" | "passed" | "failed";
  /** What the gate checks: `job smoke`, `http://.../healthz 200`, `30s`. */
  readonly detail?: string;
}

/** One environment of a pipeline. */
export interface EnvironmentView {
  readonly environment: string;
  readonly application: string;
  /** The version its files in Git hold now (the `version` value marked for the pipeline). */
  readonly version?: string;
  /** Every marked value at the branch head. */
  readonly values?: Readonly<Record<string, string>>;
  /** Where the version in flight stands here. */
  readonly phase: StepPhase;
  readonly reason?: string;
  readonly message?: string;
  readonly commit?: string;
  readonly branch?: string;
  readonly approvedBy?: string;
  readonly approvedAt?: string;
  readonly since?: string;
  readonly gates: readonly GateView[];
  /** The run of its verification job for the version in flight, once started. */
  readonly verification?: VerificationRecord;
  /** The hold a rollback put on its application: nothing is promoted into it until released. */
  readonly hold?: HoldStatus;
  /** A suspension of its application (`ferry suspend`): it is not synced until resumed. */
  readonly suspension?: Suspension;
}

/** What holds an environment's application now, by application name. */
export interface ApplicationHolds {
  readonly holds: ReadonlyMap<string, HoldStatus>;
  readonly suspensions: ReadonlyMap<string, Suspension>;
}

/** A pipeline and its promotion in flight (or last finished), for the CLI and the dashboard. */
export interface PipelineView {
  readonly name: string;
  readonly watch?: string;
  readonly watchError?: string;
  readonly promotion?: { readonly version: string; readonly startedAt: string; readonly startedBy: string; readonly outcome?: "Succeeded" | "Failed"; readonly finishedAt?: string };
  readonly environments: readonly EnvironmentView[];
  /** One sentence: what waits on what, or why it stopped. */
  readonly summary: string;
}

const ORDER: readonly StepPhase[] = ["Waiting", "Held", "AwaitingPromotion", "AwaitingApproval", "Writing", "AwaitingMerge", "Syncing", "Verifying", "Soaking", "Passed"];

/** The view of one pipeline from its configuration, its promotion record and each environment's values in Git. Pure. */
export function pipelineView(
  pipeline: Pipeline,
  record: PromotionRecord | undefined,
  values: Readonly<Record<string, Readonly<Record<string, string>> | undefined>>,
  watch?: { readonly description?: string; readonly error?: string },
  held: ApplicationHolds = { holds: new Map(), suspensions: new Map() },
): PipelineView {
  const environments = pipeline.steps.map((step, index): EnvironmentView => {
    const state = record?.steps[index];
    const envValues = values[step.environment];
    const hold = held.holds.get(step.application);
    const suspension = held.suspensions.get(step.application);
    return {
      environment: step.environment,
      application: step.application,
      ...(envValues?.["version"] !== undefined ? { version: envValues["version"] } : {}),
      ...(envValues ? { values: envValues } : {}),
      phase: state?.phase ?? "Waiting",
      ...(state?.reason !== undefined ? { reason: state.reason } : {}),
      ...(state?.message !== undefined ? { message: state.message } : {}),
      ...(state?.commit !== undefined ? { commit: state.commit } : {}),
      ...(state?.branch !== undefined ? { branch: state.branch } : {}),
      ...(state?.approvedBy !== undefined ? { approvedBy: state.approvedBy, approvedAt: state.approvedAt ?? "" } : {}),
      ...(state ? { since: state.since } : {}),
      gates: gatesOf(step, state),
      ...(state?.verification ? { verification: state.verification } : {}),
      ...(hold ? { hold } : {}),
      ...(suspension ? { suspension } : {}),
    };
  });
  return {
    name: pipeline.name,
    ...(watch?.description !== undefined ? { watch: watch.description } : {}),
    ...(watch?.error !== undefined ? { watchError: watch.error } : {}),
    ...(record
      ? { promotion: { version: record.version, startedAt: record.startedAt, startedBy: record.startedBy, ...(record.outcome ? { outcome: record.outcome, finishedAt: record.finishedAt ?? "" } : {}) } }
      : {}),
    environments,
    summary: [...holdsOf(environments), summaryOf(pipeline, record, environments)].join("; "),
  };
}

/** What holds environments, first in the summary: a hold or a suspension stands whatever the promotion says. */
function holdsOf(environments: readonly EnvironmentView[]): string[] {
  return environments.flatMap((e) => [
    ...(e.hold ? [`${e.environment} is on hold since ${e.hold.since}${e.hold.by ? ` by ${e.hold.by}` : ""}: ${e.hold.reason} (${e.hold.release})`] : []),
    ...(e.suspension ? [`${e.environment} is suspended by ${e.suspension.by} since ${e.suspension.at}${e.suspension.reason ? `: ${e.suspension.reason}` : ""} (ferry resume ${e.application})`] : []),
  ]);
}

function gatesOf(step: PipelineStep, state: StepRecord | undefined): GateView[] {
  const phase = state?.phase ?? "Waiting";
  const at = ORDER.indexOf(phase);
  const failedGate = phase === "Failed" ? failedAt(state) : undefined;
  const stateOf = (gate: GateView["gate"], waitingIn: readonly StepPhase[], passedFrom: StepPhase): GateView["state"] => {
    if (failedGate === gate) return "failed";
    if (phase === "Failed") return ORDER.indexOf(passedFrom) <= ORDER.indexOf(lastPhaseBefore(failedGate)) ? "passed" : "pending";
    if (waitingIn.includes(phase)) return "waiting";
    return at >= ORDER.indexOf(passedFrom) ? "passed" : "pending";
  };
  const gates: GateView[] = [];
  if (step.approval) gates.push({ gate: "approval", state: state?.approvedBy !== undefined ? "passed" : stateOf("approval", ["AwaitingApproval"], "Writing") });
  if (step.promotion === "manual") gates.push({ gate: "promotion", state: state?.approvedBy !== undefined ? "passed" : stateOf("promotion", ["AwaitingPromotion"], "Writing") });
  gates.push({ gate: "synced", state: stateOf("synced", ["Writing", "AwaitingMerge", "Syncing"], "Verifying"), detail: "synced and healthy at the new version" });
  if (step.verify.job !== undefined || step.verify.http.length > 0) {
    const detail = [...(step.verify.job !== undefined ? [`job ${step.verify.job}`] : []), ...step.verify.http.map((h) => `${h.url} ${h.status}`)].join(", ");
    gates.push({ gate: "verify", state: stateOf("verify", ["Verifying"], "Soaking"), detail });
  }
  if (step.soakMs > 0) gates.push({ gate: "soak", state: stateOf("soak", ["Soaking"], "Passed"), detail: `${Math.round(step.soakMs / 1000)}s` });
  return gates;
}

/** The gate a failed step stopped at, from its reason. */
function failedAt(state: StepRecord | undefined): GateView["gate"] {
  if (state?.reason === "VerificationFailed") return "verify";
  if (state?.reason === "Unhealthy") return "soak";
  return "synced";
}

function lastPhaseBefore(gate: GateView["gate"] | undefined): StepPhase {
  if (gate === "verify") return "Verifying";
  if (gate === "soak") return "Soaking";
  return "Writing";
}

function summaryOf(pipeline: Pipeline, record: PromotionRecord | undefined, environments: readonly EnvironmentView[]): string {
  if (!record) {
    const deployed = environments.filter((e) => e.version !== undefined).map((e) => `${e.environment} has ${e.version ?? ""}`);
    const next = pipeline.watch ? "no new version discovered yet" : `no promotion yet: ferry promote ${pipeline.name} --to ${pipeline.steps[0]?.environment ?? ""} --version <v>`;
    return deployed.length > 0 ? `${deployed.join(", ")}; ${next}` : pipeline.watch ? "no version discovered yet" : next;
  }
  const failed = record.steps.find((s) => s.phase === "Failed");
  if (failed) {
    const later = record.steps.slice(record.steps.indexOf(failed) + 1).map((s) => s.environment);
    return `${record.version} stopped in ${failed.environment}: ${failed.message ?? failed.reason ?? "failed"}${later.length > 0 ? `; ${later.join(", ")} will not get it` : ""}`;
  }
  if (record.outcome === "Succeeded") {
    const moved = environments.filter((e) => e.version !== undefined && e.version !== record.version).map((e) => `${e.environment} has ${e.version ?? ""} now`);
    return `${record.version} reached every environment${moved.length > 0 ? ` (${moved.join(", ")})` : ""}`;
  }
  const step = record.steps.find((s) => s.phase !== "Passed");
  if (!step) return "";
  const later = record.steps.slice(record.steps.indexOf(step) + 1).map((s) => s.environment);
  const waiting = later.length > 0 ? `; ${later.join(", ")} ${later.length === 1 ? "waits" : "wait"} on ${step.environment}` : "";
  return `${record.version}: ${step.environment} ${PHASE_TEXT[step.phase]}${step.message ? ` (${step.message})` : ""}${waiting}`;
}

const PHASE_TEXT: Readonly<Record<StepPhase, string>> = {
  Waiting: "waits for the environment before it",
  AwaitingApproval: "waits for approval",
  AwaitingPromotion: "waits for ferry promote",
  Held: "is on hold",
  Writing: "is being written",
  AwaitingMerge: "waits for its pull request to be merged",
  Syncing: "is syncing",
  Verifying: "is being verified",
  Soaking: "is soaking",
  Passed: "passed",
  Failed: "failed",
};
