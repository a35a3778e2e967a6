// The npm package carries what `ferry` runs and nothing of its tests: no
// compiled test, no source map of one, no test support (anything that loads
// node:test or node:assert), no benchmark; and the command's entry point.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** The files `npm pack` would put in the package (without building: the tests run on a build). */
function packedFiles(): string[] {
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const out = execFileSync(npm, ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  const [pack] = JSON.parse(out) as { files: { path: string }[] }[];
  assert.ok(pack, "npm pack --dry-run --json printed no package");
  return pack.files.map((f) => f.path);
}

test("the package ships the ferry command and none of the tests", async () => {
  const files = packedFiles();
  assert.ok(files.includes("dist/src/cli/main.js"), "dist/src/cli/main.js (the ferry command) is in the package");
  assert.deepEqual(
    files.filter((f) => /\.test\.js(\.map)?$/.test(f) || f.startsWith("dist/test/") || f.startsWith("dist/bench/") || /test-support|fixture|conformance/.test(f)),
    [],
    "no compiled test, test support or benchmark ships",
  );
  const shipped = new Set(files);
  const loadsTestRunner: string[] = [];
  const missing: string[] = [];
  for (const file of files.filter((f) => f.startsWith("dist/src/") && f.endsWith(".js"))) {
    const text = await readFile(path.join(ROOT, file), "utf8");
    if (/from "node:(test|assert)(\/strict)?"/.test(text)) loadsTestRunner.push(file);
    // What a shipped module imports ships too: the package runs without anything left out.
    for (const [, specifier] of text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)) {
      const imported = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier ?? ""));
      if (!shipped.has(imported)) missing.push(`${file} imports ${imported}`);
    }
  }
  assert.deepEqual(loadsTestRunner, [], "no shipped module loads node:test or node:assert (test support belongs in test/support/)");
  assert.deepEqual(missing, [], "every module a shipped module imports is in the package");
});
