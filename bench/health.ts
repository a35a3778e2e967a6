// How fast health is assessed: 10,000 live objects drawn in turn from the
// golden fixtures (testdata/kubernetes-health: every built-in rule, core
// kinds and custom resources alike), with every built-in rule loaded and
// compiled once. Also the custom resources alone, which run CEL.
import { readdir, readFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import type { JsonObject } from "../src/core/json.js";
import { builtInRules, HealthRuleSet } from "../src/targets/kubernetes/health/rule-set.js";
import { BUILT_IN_RULE_SPECS } from "../src/targets/kubernetes/health/rules/index.js";
import { median } from "./measure.js";

const OBJECTS = Number(process.env["OBJECTS"] ?? 10_000);
const ROUNDS = Number(process.env["ROUNDS"] ?? 7);
const CASES = fileURLToPath(new URL("../../testdata/kubernetes-health/", import.meta.url));

const fixtures: { rule: string; object: JsonObject }[] = [];
for (const folder of (await readdir(CASES)).sort()) {
  for (const file of (await readdir(`${CASES}${folder}`)).sort()) fixtures.push({ rule: folder, object: parse(await readFile(`${CASES}${folder}/${file}`, "utf8")) as JsonObject });
}
const celRules = new Set(BUILT_IN_RULE_SPECS.map((s) => s.name));

/** `count` distinct objects, cycling through the fixtures, each with its own name. */
function objects(pool: readonly { object: JsonObject }[], count: number): JsonObject[] {
  return Array.from({ length: count }, (_, i) => {
    const { object } = pool[i % pool.length] ?? { object: {} };
    const copy = structuredClone(object) as JsonObject & { metadata?: Record<string, unknown> };
    copy.metadata = { ...(copy.metadata ?? {}), name: `object-${i}` };
    return copy;
  });
}

const compileStart = performance.now();
const rules = builtInRules();
const set = HealthRuleSet.builtIn();
const compileMs = performance.now() - compileStart;

/** Wall-clock and CPU time per round: on a shared machine the CPU time is the steadier figure. */
function measure(label: string, batch: readonly JsonObject[]): void {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    const used = process.cpuUsage();
    for (const object of batch) set.health(object);
    const spent = process.cpuUsage(used);
    wall.push(performance.now() - start);
    cpu.push((spent.user + spent.system) / 1000);
  }
  const m = median(wall);
  const c = median(cpu);
  console.log(
    `  ${label.padEnd(34)} ${m.toFixed(0).padStart(5)} ms median (cpu ${c.toFixed(0).padStart(4)} ms)  ${(wall[0] ?? 0).toFixed(0).padStart(5)} ms first  ${((c * 1000) / batch.length).toFixed(1).padStart(6)} us cpu/object`,
  );
}

console.log(`health: ${OBJECTS} live objects from ${fixtures.length} fixtures, ${rules.length} rules (${rules.reduce((n, r) => n + r.match.length, 0)} kind patterns), ${ROUNDS} rounds`);
console.log(`  load average ${(loadavg()[0] ?? 0).toFixed(1)} on ${cpus().length} cores (the times grow with it)`);
console.log(`  compiling every built-in rule      ${compileMs.toFixed(0).padStart(5)} ms (once)`);
measure("every kind (aim: under 200 ms)", objects(fixtures, OBJECTS));
measure("custom resources only (CEL rules)", objects(fixtures.filter((f) => celRules.has(f.rule)), OBJECTS));
