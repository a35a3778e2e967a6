import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import type { Health } from "../../../core/health.js";
import { HEALTH_ORDER } from "../../../core/health.js";
import type { JsonObject } from "../../../core/json.js";
import { isJsonObject } from "../../../core/json.js";
import { HealthRuleSet, builtInRules } from "./rule-set.js";
import { BUILT_IN_RULE_SPECS } from "./rules/index.js";

// Tests run from dist/src/targets/kubernetes/health/; the fixtures stay in the repository.
const CASES = fileURLToPath(new URL("../../../../../testdata/kubernetes-health/", import.meta.url));

/** One folder of fixtures per built-in rule, named after it, and `generic` for the kstatus fallback. */
const RULES = [...builtInRules().map((r) => r.name), "generic"].sort();

/** A fixture: leading `# status: X` and `# message: Y` comment lines (Y in YAML scalar syntax), then the live object. */
function readFixture(text: string, path: string): { expected: Health; object: JsonObject } {
  const header = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (!line.startsWith("#")) break;
    const match = /^# (status|message): (.*)$/.exec(line);
    if (!match) continue;
    const [, key = "", value = ""] = match;
    assert.ok(!header.has(key), `${path}: "${key}" is given twice`);
    const parsed: unknown = parse(value);
    assert.ok(typeof parsed === "string", `${path}: the ${key} line must hold a string (quote a value that contains ": ")`);
    header.set(key, parsed);
  }
  const status = header.get("status");
  const message = header.get("message");
  assert.ok(status !== undefined && (HEALTH_ORDER as readonly string[]).includes(status), `${path}: needs a "# status: <one of ${HEALTH_ORDER.join(", ")}>" line`);
  assert.ok(message !== undefined, `${path}: needs a "# message: ..." line`);
  const object: unknown = parse(text);
  assert.ok(isJsonObject(object), `${path}: the document must be a mapping`);
  return { expected: { status: status as Health["status"], message }, object: object as JsonObject };
}

describe("kubernetes health golden cases (testdata/kubernetes-health)", async () => {
  const rules = HealthRuleSet.builtIn();
  const folders = (await readdir(CASES, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  it("has fixtures for every built-in rule", () => assert.deepStrictEqual(folders, RULES));
  for (const folder of folders) {
    const files = (await readdir(`${CASES}${folder}`)).filter((f) => f.endsWith(".yaml")).sort();
    const cases = await Promise.all(files.map(async (file) => ({ file, ...readFixture(await readFile(`${CASES}${folder}/${file}`, "utf8"), `${folder}/${file}`) })));
    describe(folder, () => {
      it("has at least two cases", () => assert.ok(files.length >= 2, `${folder} has ${files.length} cases`));
      const spec = BUILT_IN_RULE_SPECS.find((s) => s.name === folder);
      if (spec) {
        it("covers every kind it names and every status it can give", () => {
          const seen = new Set(cases.map((c) => `${String(c.object["apiVersion"]).split("/")[0]}/${String(c.object["kind"])}`));
          for (const m of spec.match.filter((m) => !m.kind.includes("*") && !m.group.includes("*"))) {
            assert.ok([...seen].some((k) => k.startsWith(`${m.group}/`) && k.endsWith(`/${m.kind}`)), `no fixture of ${m.group}/${m.kind}`);
          }
          const statuses = new Set(cases.map((c) => c.expected.status));
          const possible = [["Suspended", spec.suspended], ["Degraded", spec.degraded], ["Progressing", spec.progressing], ["Healthy", spec.healthy]] as const;
          for (const [status, expression] of possible) {
            if (expression !== undefined && expression !== "false") assert.ok(statuses.has(status), `no ${status} fixture`);
          }
        });
      }
      for (const { file, expected, object } of cases) {
        it(file.replace(/\.yaml$/, ""), () => {
          const verdict = rules.assess(object);
          assert.deepStrictEqual(verdict.health, expected);
          // The fixture is decided by the rule of its folder (or by the generic fallback, for generic/).
          if (spec) assert.ok(verdict.rule.startsWith(`${folder} `), `decided by ${verdict.rule}`);
        });
      }
    });
  }
});
