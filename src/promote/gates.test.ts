import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PipelineStep } from "../config/pipeline.js";
import type { EnvironmentObservation } from "./gates.js";
import { evaluateGates } from "./gates.js";
import type { StepRecord, VerificationRecord } from "./promotion-state.js";

const T0 = Date.parse("2026-11-23T12:00:00Z");
const step = (over: Partial<PipelineStep> = {}): PipelineStep => ({
  environment: "dev",
  application: "web-dev",
  promotion: "automatic",
  approval: false,
  verify: { job: "smoke", http: [], timeoutMs: 60_000 },
  soakMs: 0,
  onFailure: "stop",
  index: 0,
  ...over,
});
const record = (phase: StepRecord["phase"], over: Partial<StepRecord> = {}): StepRecord => ({
  environment: "dev",
  application: "web-dev",
  phase,
  since: new Date(T0).toISOString(),
  writtenAt: new Date(T0).toISOString(),
  ...over,
});
const V2 = { version: "2.0.0" };
const healthy: EnvironmentObservation = { ready: true, health: { status: "Healthy", message: "all objects are healthy" }, syncedValues: V2, headValues: V2 };

describe("promotion gates", () => {
  it("waits until the environment synced the expected values and is healthy, then verifies", () => {
    const old = { ...healthy, syncedValues: { version: "1.0.0" } };
    assert.equal(evaluateGates(step(), record("Syncing"), V2, old, T0 + 1000).kind, "wait");
    const notReady = { ...healthy, ready: false, health: { status: "Progressing" as const, message: "starting" } };
    assert.equal(evaluateGates(step(), record("Syncing"), V2, notReady, T0 + 1000).kind, "wait");
    assert.deepEqual(evaluateGates(step(), record("Syncing"), V2, healthy, T0 + 1000), {
      kind: "advance",
      phase: "Verifying",
      gate: "synced",
      message: "dev synced the new version and is healthy",
    });
    // Without verification or soak, synced and healthy is the whole gate.
    assert.equal((evaluateGates(step({ verify: { http: [], timeoutMs: 60_000 } }), record("Syncing"), V2, healthy, T0) as { phase: string }).phase, "Passed");
  });

  it("fails a sync of the new version at once, and a smoke test that failed says so", () => {
    const failed = { ...healthy, syncedValues: { version: "1.0.0" }, lastSync: { values: V2, outcome: "Failed" as const, message: "Job/smoke: exited with code 1" } };
    assert.deepEqual(evaluateGates(step(), record("Syncing"), V2, failed, T0), {
      kind: "fail",
      reason: "SyncFailed",
      gate: "synced",
      message: "dev (web-dev) failed to sync the new version: Job/smoke: exited with code 1",
    });
    const smoke = { ...failed, job: { status: "Degraded" as const, message: "exited with code 1" } };
    const elsewhere = { ...smoke, lastSync: { values: V2, outcome: "Failed" as const, message: "Service/web: spec.artifact.digest: sha256 mismatch" } };
    assert.equal((evaluateGates(step(), record("Syncing"), V2, elsewhere, T0) as { reason: string }).reason, "SyncFailed", "an older run's failed job is not blamed");
    assert.deepEqual(evaluateGates(step(), record("Syncing"), V2, smoke, T0), {
      kind: "fail",
      reason: "VerificationFailed",
      gate: "verify",
      message: "smoke test job smoke failed in dev: exited with code 1",
    });
    // A failed sync of an older version is not this promotion's failure.
    const older = { ...healthy, syncedValues: { version: "1.0.0" }, lastSync: { values: { version: "1.0.0" }, outcome: "Failed" as const, message: "x" } };
    assert.equal(evaluateGates(step(), record("Syncing"), V2, older, T0).kind, "wait");
  });

  it("times out an environment that never becomes healthy, naming its health", () => {
    const sick = { ...healthy, ready: false, health: { status: "Degraded" as const, message: "Service/web: exited with code 3" } };
    assert.deepEqual(evaluateGates(step(), record("Syncing"), V2, sick, T0 + 61_000), {
      kind: "fail",
      reason: "Timeout",
      gate: "synced",
      message: "dev (web-dev) is Degraded: Service/web: exited with code 3 after 60s",
    });
  });

  it("verifies with a run of the job started for this version, never with the Job's health", () => {
    // The Job's own health (an older run) does not count: a run for this version is asked for.
    const started = evaluateGates(step(), record("Verifying"), V2, { ...healthy, job: { status: "Healthy", message: "completed" } }, T0);
    assert.deepEqual(started, { kind: "wait", phase: "Verifying", message: "starting smoke test job smoke", startRun: true });
    const run = (status: VerificationRecord["status"], over: Partial<VerificationRecord> = {}): VerificationRecord => ({
      job: "smoke",
      runId: "2-0-0-abc123",
      key: "host.ferry.dev/Job//smoke",
      name: "runs/smoke/2-0-0-abc123.log",
      status,
      startedAt: new Date(T0).toISOString(),
      message: status === "failed" ? "exited with code 1" : status,
      attempt: 1,
      ...over,
    });
    assert.deepEqual(evaluateGates(step(), record("Verifying"), V2, { ...healthy, run: run("running") }, T0), { kind: "wait", phase: "Verifying", message: "waiting for smoke test job smoke (run 2-0-0-abc123)" });
    assert.deepEqual(evaluateGates(step(), record("Verifying"), V2, { ...healthy, run: run("failed", { output: "  smoke test failed: 500" }) }, T0), {
      kind: "fail",
      reason: "VerificationFailed",
      gate: "verify",
      message: "smoke test job smoke failed in dev: exited with code 1 (run 2-0-0-abc123); last output:\n  smoke test failed: 500",
    });
    assert.equal((evaluateGates(step(), record("Verifying"), V2, { ...healthy, run: run("running") }, T0 + 61_000) as { reason: string }).reason, "Timeout");
    assert.equal((evaluateGates(step(), record("Verifying"), V2, { ...healthy, run: run("lost") }, T0) as { startRun: boolean }).startRun, true, "a lost run is started again");
    assert.equal((evaluateGates(step(), record("Verifying"), V2, { ...healthy, run: run("lost", { attempt: 3 }) }, T0) as { reason: string }).reason, "VerificationFailed", "three lost runs in a row fail the step");
    assert.equal((evaluateGates(step(), record("Verifying"), V2, healthy, T0 + 61_000) as { reason: string }).reason, "Timeout", "a run that never started times out");
    assert.equal((evaluateGates(step(), record("Verifying"), V2, { ...healthy, run: run("succeeded") }, T0) as { phase: string }).phase, "Passed");
  });

  it("verifies with the HTTP checks, asking for the checks to run", () => {
    const http = step({ verify: { http: [{ url: "http://x/", status: 200 }], timeoutMs: 60_000 } });
    const verdict = evaluateGates(http, record("Verifying"), V2, healthy, T0);
    assert.equal(verdict.kind === "wait" && verdict.runHttp, true);
    const failing = { ...healthy, http: [{ ok: false, message: "http://x/ answered 500, expected 200" }] };
    assert.equal(evaluateGates(http, record("Verifying"), V2, failing, T0 + 1000).kind, "wait");
    assert.deepEqual(evaluateGates(http, record("Verifying"), V2, failing, T0 + 61_000), {
      kind: "fail",
      reason: "VerificationFailed",
      gate: "verify",
      message: "HTTP check failed in dev: http://x/ answered 500, expected 200",
    });
    const passing = { ...healthy, http: [{ ok: true, message: "ok" }] };
    assert.equal((evaluateGates(http, record("Verifying"), V2, passing, T0) as { phase: string }).phase, "Passed");
  });

  it("soaks: stays healthy for the soak time, or fails", () => {
    const soak = step({ soakMs: 30_000 });
    const verified = record("Soaking", { verifiedAt: new Date(T0).toISOString() });
    assert.equal(evaluateGates(soak, verified, V2, healthy, T0 + 10_000).kind, "wait");
    assert.equal((evaluateGates(soak, verified, V2, healthy, T0 + 30_000) as { phase: string }).phase, "Passed");
    const sick = { ...healthy, health: { status: "Degraded" as const, message: "Service/web: exited" } };
    assert.equal((evaluateGates(soak, verified, V2, sick, T0 + 10_000) as { reason: string }).reason, "Unhealthy");
  });

  it("waits for a pull request to be merged before the sync clock starts", () => {
    const merged = evaluateGates(step(), record("AwaitingMerge", { branch: "ferry/promote/web/dev-2.0.0" }), V2, { ...healthy, headValues: { version: "1.0.0" } }, T0 + 3_600_000);
    assert.deepEqual(merged, { kind: "wait", phase: "AwaitingMerge", message: "waiting for ferry/promote/web/dev-2.0.0 to be merged" });
    assert.equal((evaluateGates(step(), record("AwaitingMerge"), V2, healthy, T0) as { phase: string }).phase, "Syncing");
  });
});
