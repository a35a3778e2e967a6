import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ManifestFile } from "./load-files.js";
import { renderDirectory } from "./render.js";
import { seededRandom } from "../core/seeded-random.js";

/** A small deterministic generator (mulberry32), so a failure can be replayed from its seed. */

const file = (name: string, content: string): string =>
  ["apiVersion: host.ferry.dev/v1", "kind: File", "metadata:", `  name: ${name}`, "  labels:", '    app.kubernetes.io/version: "1"', "spec:", `  path: ${name}.txt`, `  content: ${content}`, ""].join("\n");
const BASE: ManifestFile = { path: "apps/web/base/files.yaml", content: [file("config", "base"), file("page", "hello")].join("---\n") };
const OVERLAY = ["apiVersion: ferry.dev/v1", "kind: Overlay", "metadata:", "  name: prd", "spec:", "  bases:", "    - ../../base", ""].join("\n");
const PATCHES = [
  ["apiVersion: host.ferry.dev/v1", "kind: File", "metadata:", "  name: config", "  labels:", '    app.kubernetes.io/version: "2"', "spec:", "  content: prd", ""].join("\n"),
  ["apiVersion: host.ferry.dev/v1", "kind: File", "metadata:", "  name: page", "  annotations:", "    ferry.dev/patch: delete", ""].join("\n"),
].join("---\n");
const NOISE = [":", "-", "[", "{", "}", "&a", "*a", "<<: *a", "!!", "\t", "\0", '"', "'", "#", "\n", " ", "|", ">", "\uFFFD", "%", "../", "/etc", "..", "bases:", "- .", "ferry.dev/patch: delete"];
const BASES = ["../../base", ".", "..", "../..", "/abs", "../../../../outside", "../prd", "", "~", "../../base/files.yaml", "\0", "../../base\n- ../../base"];

function mutate(text: string, next: () => number, i: number): string {
  const bytes = Buffer.from(text, "utf8");
  switch (i % 4) {
    case 0:
      return bytes.subarray(0, Math.floor(next() * bytes.length)).toString("utf8");
    case 1: {
      const out = Buffer.from(bytes);
      for (let flips = 1 + Math.floor(next() * 4); flips > 0; flips--) {
        const at = Math.floor(next() * out.length);
        out[at] = (out[at] ?? 0) ^ (1 << Math.floor(next() * 8));
      }
      return out.toString("utf8");
    }
    case 2: {
      const at = Math.floor(next() * text.length);
      return text.slice(0, at) + (NOISE[Math.floor(next() * NOISE.length)] ?? "") + text.slice(at + Math.floor(next() * 3));
    }
    default:
      return text.replace("../../base", BASES[Math.floor(next() * BASES.length)] ?? "");
  }
}

describe("the overlay engine on malformed input", () => {
  it("never throws or hangs, and every problem names a file, line and column (600 mutations, seed 11)", () => {
    const next = seededRandom(11);
    for (let i = 0; i < 600; i++) {
      // Mutate the overlay file, the patches, or both; sometimes add an overlay that points back at itself.
      const overlay = i % 3 !== 1 ? mutate(OVERLAY, next, i) : OVERLAY;
      const patches = i % 3 !== 0 ? mutate(PATCHES, next, i + 1) : PATCHES;
      const files: ManifestFile[] = [
        BASE,
        { path: "apps/web/envs/prd/ferry-overlay.yaml", content: overlay },
        { path: "apps/web/envs/prd/patches.yaml", content: patches },
        ...(i % 7 === 0 ? [{ path: "apps/web/base/ferry-overlay.yaml", content: OVERLAY.replace("../../base", "../envs/prd") }] : []),
      ];
      const started = Date.now();
      let result;
      try {
        result = renderDirectory(files, { dir: "apps/web/envs/prd" });
      } catch (error) {
        assert.fail(`mutation ${i} threw ${(error as Error).stack ?? String(error)}\n--- overlay ---\n${overlay}\n--- patches ---\n${patches}`);
      }
      assert.ok(Date.now() - started < 5000, `mutation ${i} took ${Date.now() - started} ms`);
      for (const problem of result.problems) {
        const at = problem.location;
        assert.ok(at && at.file.length > 0 && at.line >= 1 && at.column >= 1, `mutation ${i}: a problem without file and line: ${JSON.stringify(problem)}`);
        assert.ok(problem.message.length > 0, `mutation ${i}: empty message`);
      }
    }
  });
});
