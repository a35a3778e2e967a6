import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { scaled } from "../../test/support/deadline.js";
import { formatProblem } from "../core/errors.js";
import { seededRandom } from "../core/seeded-random.js";
import { parseManifests } from "./parse-yaml.js";
import { renderDirectory } from "./render.js";
import type { YamlLimits } from "./yaml-bounds.js";
import { YAML_LIMITS, yamlBoundsProblem } from "./yaml-bounds.js";

const bounds = (text: string, limits: YamlLimits = YAML_LIMITS): string | undefined => {
  const problem = yamlBoundsProblem("apps/web/a.yaml", text, limits);
  return problem ? formatProblem(problem) : undefined;
};
const small = { maxDepth: 4, maxDocuments: 3, maxNodes: 40 };
const keys = (n: number, name = (i: number) => `k${i}`): string =>
  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n" + Array.from({ length: n }, (_, i) => `  ${name(i)}: v`).join("\n") + "\n";

describe("YAML bounds", () => {
  it("refuses too deep nesting, block or flow, at the line where it passes the limit", () => {
    assert.equal(bounds("a:\n  b:\n    c:\n      d: 1\n", small), undefined);
    assert.equal(bounds("a:\n  b:\n    c:\n      d:\n        e: 1\n", small), "apps/web/a.yaml:5:9: nested more than 4 levels deep: no manifest needs this much nesting");
    assert.equal(bounds("a: [[[[1]]]]\n", small), "apps/web/a.yaml:1:7: nested more than 4 levels deep: no manifest needs this much nesting");
    assert.equal(bounds("x: 1\n- - - - - y\n", small), "apps/web/a.yaml:2:9: nested more than 4 levels deep: no manifest needs this much nesting");
    assert.match(bounds("[".repeat(100_000)) ?? "", /^apps\/web\/a\.yaml:1:257: nested more than 256 levels deep/);
    assert.match(bounds("{a: ".repeat(100_000)) ?? "", /nested more than 256 levels deep/);
    assert.match(bounds("- ".repeat(100_000) + "x") ?? "", /nested more than 256 levels deep/);
  });

  it("does not count brackets and dashes inside strings, block scalars and comments, nor siblings", () => {
    const text = [
      "a:",
      "  script: |",
      "    [[[[[[ {{{{ - - - - - -",
      "  quoted: \"[[[[[[[[\"",
      "  plain: echo [[[[[[ x",
      "  # [[[[[[[[[[",
      "  list:",
      "    - 1",
      "    - 2",
      "  b: 1",
      "c: {d: [1, 2]}",
      "",
    ].join("\n");
    assert.equal(bounds(text, small), undefined);
  });

  it("refuses too many documents or values, naming the line", () => {
    assert.equal(bounds("a: 1\n---\nb: 2\n---\nc: 3\n---\nd: 4\n", small), "apps/web/a.yaml:6:1: more than 3 documents in one file: split it");
    assert.match(bounds(keys(30), small) ?? "", /^apps\/web\/a\.yaml:\d+:\d+: more than 40 values in one file: split it$/);
  });

  it("parses a large mapping in linear time: 40,000 keys, and 40,000 with a duplicate, in seconds", () => {
    // With the parser's own duplicate-key check this took over a minute.
    for (const text of [keys(40_000), keys(40_000, (i) => (i === 39_999 ? "k0" : `k${i}`))]) {
      const started = Date.now();
      const { documents, problems } = parseManifests({ path: "apps/web/big.yaml", content: text });
      const took = Date.now() - started;
      assert.ok(took < scaled(15_000), `took ${took} ms`);
      if (problems.length > 0) assert.deepEqual(problems.map(formatProblem), ['apps/web/big.yaml:40005:3: data.k0: map keys must be unique: "k0" appears twice']);
      else assert.equal(Object.keys((documents[0]?.value.data ?? {}) as object).length, 40_000);
    }
  });

  it("a file of errors stays linear: only the first problems are traced, the rest summed up", () => {
    const text = Array.from({ length: 20_000 }, () => "a: b: c").join("\n");
    const started = Date.now();
    const { problems } = parseManifests({ path: "apps/web/bad.yaml", content: text });
    assert.ok(Date.now() - started < scaled(15_000));
    assert.equal(problems.length, 21);
    assert.match(formatProblem(problems[20] ?? { severity: "error", message: "" }), /more problems in this file not shown/);
  });

  it("parseManifests refuses a file past the bounds before parsing it", () => {
    const started = Date.now();
    const { documents, problems } = parseManifests({ path: "apps/web/b.yaml", content: "[".repeat(4_900_000) });
    assert.ok(Date.now() - started < scaled(10_000));
    assert.deepEqual(documents, []);
    assert.deepEqual(problems.map(formatProblem), ["apps/web/b.yaml:1:257: nested more than 256 levels deep: no manifest needs this much nesting"]);
  });

  it("fuzz: adversarial YAML through the plain and overlay parsers never throws, stays fast, and names the file (seed 17)", () => {
    const next = seededRandom(17);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
    const pieces = ["[", "{", "- ", "? ", ": ", "&a ", "*a", "<<: *a\n", "!!binary ", "|\n", ">-\n", '"', "'", "#", "\n", "  ", "\t", "\0", "---\n", "...\n", "%YAML 1.1\n", "k: v\n", "a: b: c\n", "\uFEFF"];
    const generators: (() => string)[] = [
      () => Array.from({ length: 200 + Math.floor(next() * 2000) }, () => pick(pieces)).join(""),
      () => pick(["[", "{a: ", "- ", "? ", "  a:\n"]).repeat(100 + Math.floor(next() * 5000)),
      () => keys(1000 + Math.floor(next() * 2000), (i) => `k${Math.floor(next() * i + 1)}`),
      () => Array.from({ length: 100 + Math.floor(next() * 12_000) }, (_, i) => `---\nkind: K${i}`).join("\n"),
      () => {
        const text = keys(500);
        const at = Math.floor(next() * text.length);
        return text.slice(0, at) + Array.from({ length: 1 + Math.floor(next() * 20) }, () => pick(pieces)).join("") + text.slice(at);
      },
    ];
    const overlay = "apiVersion: ferry.dev/v1\nkind: Overlay\nmetadata:\n  name: prd\nspec:\n  bases:\n    - ../base\n";
    const base = { path: "apps/base/a.yaml", content: "apiVersion: host.ferry.dev/v1\nkind: File\nmetadata:\n  name: a\nspec:\n  path: a.txt\n  content: a\n" };
    for (let i = 0; i < Number(process.env.FERRY_FUZZ_INPUTS ?? 30); i++) {
      const content = pick(generators)();
      const asOverlay = i % 2 === 1;
      const files = asOverlay ? [base, { path: "apps/prd/ferry-overlay.yaml", content: overlay + content }] : [{ path: "apps/prd/x.yaml", content }];
      const started = Date.now();
      let result;
      try {
        result = renderDirectory(files, { dir: "apps/prd" });
      } catch (error) {
        assert.fail(`input ${i} threw ${(error as Error).stack ?? String(error)}`);
      }
      assert.ok(Date.now() - started < scaled(5000), `input ${i} (${content.length} bytes) took ${Date.now() - started} ms`);
      for (const problem of result.problems) assert.ok(problem.location?.file.startsWith("apps/"), `input ${i}: a problem without its file: ${JSON.stringify(problem)}`);
    }
  });
});
