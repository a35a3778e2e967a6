// The crash test: an agent managing a dozen applications is killed with
// SIGKILL at random instants of its syncs, started again, and checked after
// every round (test/support/crash-rounds.ts). A few rounds here; the
// benchmark (bench/crash.ts) runs a hundred.
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatCrashReport, runCrashRounds } from "../support/crash-rounds.js";

const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 12);
const SEED = Number(process.env.CRASH_SEED ?? 20261205);

test(`an agent killed at random instants of ${ROUNDS} rounds of syncs leaves one process per Service, nothing Git dropped, no stale Degraded, no temporary files, no missing history`, async () => {
  const report = await runCrashRounds({ rounds: ROUNDS, seed: SEED });
  console.log(`# crash test (seed ${SEED}): ${formatCrashReport(report)}`);
  const failures = report.details;
  assert.deepEqual(failures, [], formatCrashReport(report));
});
