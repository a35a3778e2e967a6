// Runs every compiled test file (dist/**/*.test.js) with Node's test runner.
// Tools in .tools/bin (helm, from scripts/install-helm.mjs) are put first on PATH.
// Arguments narrow the run to files whose path contains one of them.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";

function collect(dir, out) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) collect(path, out);
    else if (entry.name.endsWith(".test.js")) out.push(path);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = collect("dist", [])
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error("no test files found under dist/ (did the build run?)");
  process.exit(1);
}
const PATH = [resolve(".tools/bin"), process.env.PATH ?? ""].join(delimiter);
const result = spawnSync(process.execPath, ["--test", "--test-reporter=spec", ...files], { stdio: "inherit", env: { ...process.env, PATH } });
process.exit(result.status ?? 1);
