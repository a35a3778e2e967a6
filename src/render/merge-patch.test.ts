import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { JsonValue } from "../core/json.js";
import type { ManifestFile } from "./load-files.js";
import { mergePatch } from "./overlay.js";
import { renderDirectory } from "./render.js";

/** RFC 7386 appendix A (and RFC 7396's, the same): original, patch, result. */
const RFC_7386_EXAMPLES: readonly (readonly [JsonValue, JsonValue, JsonValue])[] = [
  [{ a: "b" }, { a: "c" }, { a: "c" }],
  [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
  [{ a: "b" }, { a: null }, {}],
  [{ a: "b", b: "c" }, { a: null }, { b: "c" }],
  [{ a: ["b"] }, { a: "c" }, { a: "c" }],
  [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
  [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
  [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
  [["a", "b"], ["c", "d"], ["c", "d"]],
  [{ a: "b" }, ["c"], ["c"]],
  [{ a: "foo" }, null, null],
  [{ a: "foo" }, "bar", "bar"],
  [{ e: null }, { a: 1 }, { e: null, a: 1 }],
  [[1, 2], { a: "b", c: null }, { a: "b" }],
  [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
];

describe("merge patches", () => {
  for (const [original, patch, result] of RFC_7386_EXAMPLES) {
    test(`RFC 7386: ${JSON.stringify(original)} patched with ${JSON.stringify(patch)} is ${JSON.stringify(result)}`, () => {
      assert.deepEqual(mergePatch(original, patch), result);
    });
  }

  test("an overlay that adds a strategy with rollingUpdate: null adds no rollingUpdate", () => {
    const deployment = (spec: string[]): string =>
      ["apiVersion: apps/v1", "kind: Deployment", "metadata:", "  name: web", "  namespace: shop", "spec:", ...spec.map((l) => `  ${l}`), ""].join("\n");
    const files: ManifestFile[] = [
      { path: "base/web.yaml", content: deployment(["replicas: 1"]) },
      { path: "prd/ferry-overlay.yaml", content: "apiVersion: ferry.dev/v1\nkind: Overlay\nspec:\n  bases:\n    - ../base\n" },
      { path: "prd/web.yaml", content: deployment(["strategy:", "  type: Recreate", "  rollingUpdate: null"]) },
    ];
    const { objects, problems } = renderDirectory(files, { dir: "prd" });
    assert.deepEqual(problems, []);
    assert.deepEqual(objects[0]?.manifest.spec, { replicas: 1, strategy: { type: "Recreate" } });
  });
});
