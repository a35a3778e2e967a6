import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { it } from "node:test";
import { fileURLToPath } from "node:url";

// Test titles of the conformance suite, shortened to what tells them apart.
const SUPPORTS = "supports the sample's kind and not an unknown one";
const VALIDATES = "validates a sample without problems";
const CREATES = "creates a new object that reads back as described and owned";
const SAME_AGAIN = "applying the same object again changes nothing";
const VARIANT = "applying another variant configures the object";
const SEVERAL = "reads several objects in one call and leaves out absent ones";
const DELETES = "deletes an object, and deleting it again succeeds";
const HEALTH = "reports applied objects Healthy and unknown ones Missing";
const DRIFT = "notices drift, tells watchers, and corrects it on the next apply";

/** For each flaw in test/support/flawed-targets.fixture.ts, the tests that must catch it (and no others). */
const EXPECTED: Readonly<Record<string, readonly string[]>> = {
  "supports every kind": [SUPPORTS],
  "finds problems in valid objects": [VALIDATES],
  "forgets the owner": [CREATES],
  "describes what it does not apply": [CREATES, SAME_AGAIN, VARIANT, SEVERAL, DRIFT],
  "never says unchanged": [SAME_AGAIN],
  "reads absent keys": [SEVERAL, DELETES],
  "fails to delete what is gone": [DELETES],
  "never becomes healthy": [HEALTH],
  "tells no watcher": [DRIFT],
};

it("the conformance suite fails exactly the tests that a flawed target breaks", { timeout: 60_000 }, async () => {
  const fixture = fileURLToPath(new URL("../../../test/support/flawed-targets.fixture.js", import.meta.url));
  const tap = await runTestFile(fixture);
  const failed: Record<string, string[]> = {};
  let pending: string[] = [];
  // A suite's result line follows its tests', so failures wait for their suite's name.
  for (const line of tap.split("\n")) {
    const result = /^( *)(not ok|ok) \d+ - (.*)$/.exec(line);
    if (!result) continue;
    const [, indent = "", status, name = ""] = result;
    if (indent.length > 0 && status === "not ok") pending.push(name);
    if (indent.length === 0) {
      failed[name.replace(/^target conformance: /, "")] = pending;
      pending = [];
    }
  }
  const expected = Object.fromEntries(Object.entries(EXPECTED).map(([flaw, tests]) => [flaw, [...tests]]));
  assert.deepStrictEqual(failed, expected);
});

/** Runs one test file in its own `node --test` and returns its TAP report. */
async function runTestFile(file: string): Promise<string> {
  // Without this variable the child reports as a top-level run, not to the runner of this file.
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const child = spawn(process.execPath, ["--test", "--test-reporter=tap", file], { env, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
  await new Promise((resolve, reject) => child.on("error", reject).on("close", resolve));
  return out;
}
