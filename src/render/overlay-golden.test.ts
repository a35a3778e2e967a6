import assert from "node:assert/strict";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { formatProblem } from "../core/errors.js";
import type { JsonValue } from "../core/json.js";
import { locate } from "../core/objects.js";
import { formatLocation } from "../core/location.js";
import { loadSourceFiles } from "./load-source.js";
import { renderDirectory } from "./render.js";

// Tests run from dist/src/render/; the fixtures stay in the repository.
const CASES = fileURLToPath(new URL("../../../testdata/overlay/", import.meta.url));
const UPDATE = process.env["UPDATE_GOLDEN"] === "1";

/**
 * Each case renders `input/overlay` (over its bases in `input/`): the objects
 * with where their names and labels come from, or the problems as people see them.
 */
describe("overlay transformer golden cases (testdata/overlay)", async () => {
  const cases = (await readdir(CASES, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  it("has cases", () => assert.ok(cases.length >= 4, `found ${cases.length} cases in ${CASES}`));
  for (const name of cases) {
    it(name, async () => {
      const files = await loadSourceFiles(`${CASES}${name}/input`, "overlay");
      const result = renderDirectory(files, { dir: "overlay" });
      const actual: JsonValue = {
        objects: result.objects.map((o) => ({
          key: o.key,
          manifest: o.manifest,
          // Where a person is sent for each label and annotation: the base's line, or the overlay's.
          from: Object.fromEntries(
            [...Object.keys(o.manifest.metadata.labels ?? {}).map((k) => `/metadata/labels/${k}`), ...Object.keys(o.manifest.metadata.annotations ?? {}).map((k) => `/metadata/annotations/${k.replace(/\//g, "~1")}`)].map((p) => [
              p,
              formatLocation(locate(o.origin, p)),
            ]),
          ),
        })),
        problems: result.problems.map(formatProblem),
      };
      const expectedPath = `${CASES}${name}/expected.json`;
      if (UPDATE) await writeFile(expectedPath, JSON.stringify(actual, null, 2) + "\n");
      const expected: unknown = JSON.parse(await readFile(expectedPath, "utf8").catch(() => "null"));
      assert.ok(expected !== null, `${expectedPath} is missing: run the tests with UPDATE_GOLDEN=1 and review it`);
      assert.deepStrictEqual(actual, expected);
    });
  }
});
