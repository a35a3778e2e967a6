import assert from "node:assert/strict";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { formatReportGithub, formatReportText } from "./format-report.js";
import { validateRepository } from "./validate-repository.js";

// Tests run from dist/src/validate/; the fixtures stay in the repository.
const CASES = fileURLToPath(new URL("../../../testdata/validate/", import.meta.url));
const UPDATE = process.env["UPDATE_GOLDEN"] === "1";

async function golden(path: string, actual: string): Promise<void> {
  if (UPDATE) await writeFile(path, actual);
  const expected = await readFile(path, "utf8").catch(() => undefined);
  assert.ok(expected !== undefined, `${path} is missing: run the tests with UPDATE_GOLDEN=1 and review it`);
  assert.equal(actual, expected);
}

describe("validate golden cases (testdata/validate)", async () => {
  const cases = (await readdir(CASES, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  it("has cases", () => assert.ok(cases.length >= 2, `found ${cases.length} cases in ${CASES}`));
  for (const name of cases) {
    it(name, async () => {
      // helm is named by a path that does not exist, so the report is the same whether or not helm is installed.
      const report = await validateRepository(`${CASES}${name}/input`, { render: { tools: { helm: "helm-not-installed" } } });
      await golden(`${CASES}${name}/expected.txt`, formatReportText(report) + "\n");
      await golden(`${CASES}${name}/expected.github.txt`, formatReportGithub(report) + "\n");
    });
  }
});
