/**
 * Benchmark: crash safety. An agent managing a dozen applications (one
 * Service and three Files each) is killed with SIGKILL at random instants of
 * its syncs, started again and checked after every round: one process per
 * Service, nothing running or written that Git dropped, no Degraded
 * application whose live state equals Git, a history entry for every version
 * that runs, no temporary files left. Prints the rounds and the failures per
 * kind; the aim is 0.
 *
 *   ROUNDS=100 SEED=1 node dist/bench/crash.js
 */
import { formatCrashReport, runCrashRounds } from "../test/support/crash-rounds.js";

const rounds = Number(process.env.ROUNDS ?? 100);
const seed = Number(process.env.SEED ?? 1);
const started = Date.now();
const report = await runCrashRounds({ rounds, seed, log: (line) => console.log(line) });
console.log(`crash benchmark (seed ${seed}, ${Math.round((Date.now() - started) / 1000)} s): ${formatCrashReport(report)}`);
process.exitCode = report.details.length === 0 ? 0 : 1;
