import assert from "node:assert/strict";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { formatProblem } from "../core/errors.js";
import type { JsonValue } from "../core/json.js";
import { formatLocation } from "../core/location.js";
import { loadManifestFiles } from "../render/load-files.js";
import { renderDirectory } from "../render/render.js";
import { loadApplications } from "./load-config.js";

// Tests run from dist/src/config/; the fixtures stay in the repository.
const CASES = fileURLToPath(new URL("../../../testdata/config/", import.meta.url));
const UPDATE = process.env["UPDATE_GOLDEN"] === "1";

/** A config directory as the agent reads it: load, render, then turn objects into applications. */
async function loadCase(dir: string): Promise<JsonValue> {
  const rendered = renderDirectory(await loadManifestFiles(dir, "."), {});
  const { applications, pipelines, healthRules, problems } = loadApplications(rendered.objects);
  return {
    applications: applications.map((a) => ({ name: a.name, origin: formatLocation(a.origin), spec: JSON.parse(JSON.stringify(a.spec)) as JsonValue })),
    ...(pipelines.length > 0 ? { pipelines: pipelines.map((p) => ({ ...(JSON.parse(JSON.stringify(p)) as Record<string, JsonValue>), origin: formatLocation(p.origin) })) } : {}),
    ...(healthRules.length > 0 ? { healthRules: healthRules.map(({ rule }) => ({ name: rule.name, source: rule.source, match: rule.match.map((m) => `${m.group}/${m.kind}`) })) } : {}),
    problems: [...rendered.problems, ...problems].map(formatProblem),
  };
}

describe("config golden cases (testdata/config)", async () => {
  const cases = (await readdir(CASES, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  it("has cases", () => assert.ok(cases.length >= 7, `found ${cases.length} cases in ${CASES}`));
  for (const name of cases) {
    it(name, async () => {
      const actual = await loadCase(`${CASES}${name}/input`);
      const expectedPath = `${CASES}${name}/expected.json`;
      if (UPDATE) await writeFile(expectedPath, JSON.stringify(actual, null, 2) + "\n");
      const expected: unknown = JSON.parse(await readFile(expectedPath, "utf8").catch(() => "null"));
      assert.ok(expected !== null, `${expectedPath} is missing: run the tests with UPDATE_GOLDEN=1 and review it`);
      assert.deepStrictEqual(actual, expected);
    });
  }
});
