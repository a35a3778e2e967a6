import assert from "node:assert/strict";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { formatProblem } from "../core/errors.js";
import type { JsonValue } from "../core/json.js";
import { loadManifestFiles } from "./load-files.js";
import type { RenderResult } from "./render.js";
import { renderDigest, renderDirectory } from "./render.js";

// Tests run from dist/src/render/; the fixtures stay in the repository.
const CASES = fileURLToPath(new URL("../../../testdata/render/", import.meta.url));
const UPDATE = process.env["UPDATE_GOLDEN"] === "1";

/** What a case's expected.json holds: objects with their origins, or the problems as people see them. */
function toGolden(result: RenderResult): JsonValue {
  return {
    objects: result.objects.map((o) => ({
      key: o.key,
      origin: `${o.origin.file}:${o.origin.line}:${o.origin.column} (document ${o.origin.document})`,
      manifest: o.manifest,
      positions: Object.fromEntries(Object.entries(o.origin.positions).map(([pointer, p]) => [pointer, `${p.line}:${p.column}`])),
    })),
    problems: result.problems.map(formatProblem),
    ...(result.problems.length === 0 ? { digest: renderDigest(result.objects) } : {}),
  };
}

describe("render golden cases (testdata/render)", async () => {
  const cases = (await readdir(CASES, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  it("has cases", () => assert.ok(cases.length >= 10, `found ${cases.length} cases in ${CASES}`));
  for (const name of cases) {
    it(name, async () => {
      const files = await loadManifestFiles(`${CASES}${name}/input`, ".");
      const actual = toGolden(renderDirectory(files, {}));
      const expectedPath = `${CASES}${name}/expected.json`;
      if (UPDATE) await writeFile(expectedPath, JSON.stringify(actual, null, 2) + "\n");
      const expected: unknown = JSON.parse(await readFile(expectedPath, "utf8").catch(() => "null"));
      assert.ok(expected !== null, `${expectedPath} is missing: run the tests with UPDATE_GOLDEN=1 and review it`);
      assert.deepStrictEqual(actual, expected);
    });
  }
});
