import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import type { Health } from "../../../core/health.js";
import { HEALTH_ORDER } from "../../../core/health.js";
import type { JsonObject } from "../../../core/json.js";
import { isJsonObject } from "../../../core/json.js";
import { assessKubernetesHealth } from "./kubernetes-health.js";

// Tests run from dist/src/targets/kubernetes/health/; the fixtures stay in the repository.
const CASES = fileURLToPath(new URL("../../../../../testdata/kubernetes-health/", import.meta.url));

/** The kinds that have their own rule, each of which must have fixtures. */
const KINDS = ["customresourcedefinition", "daemonset", "deployment", "generic", "ingress", "job", "persistentvolumeclaim", "pod", "replicaset", "service", "statefulset"];

/** A fixture: leading `# status: X` and `# message: Y` comment lines (Y in YAML scalar syntax), then the live object. */
function readFixture(text: string, path: string): { expected: Health; object: JsonObject } {
  const header = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (!line.startsWith("#")) break;
    const match = /^# (status|message): (.*)$/.exec(line);
    if (!match) continue;
    const [, key = "", value = ""] = match;
    assert.ok(!header.has(key), `${path}: "${key}" is given twice`);
    const parsed: unknown = parse(value);
    assert.ok(typeof parsed === "string", `${path}: the ${key} line must hold a string (quote a value that contains ": ")`);
    header.set(key, parsed);
  }
  const status = header.get("status");
  const message = header.get("message");
  assert.ok(status !== undefined && (HEALTH_ORDER as readonly string[]).includes(status), `${path}: needs a "# status: <one of ${HEALTH_ORDER.join(", ")}>" line`);
  assert.ok(message !== undefined, `${path}: needs a "# message: ..." line`);
  const object: unknown = parse(text);
  assert.ok(isJsonObject(object), `${path}: the document must be a mapping`);
  return { expected: { status: status as Health["status"], message }, object: object as JsonObject };
}

describe("kubernetes health golden cases (testdata/kubernetes-health)", async () => {
  const kinds = (await readdir(CASES, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  it("has fixtures for every kind with a rule", () => assert.deepStrictEqual(kinds, KINDS));
  for (const kind of kinds) {
    const files = (await readdir(`${CASES}${kind}`)).filter((f) => f.endsWith(".yaml")).sort();
    describe(kind, () => {
      it("has at least two cases", () => assert.ok(files.length >= 2, `${kind} has ${files.length} cases`));
      for (const file of files) {
        it(file.replace(/\.yaml$/, ""), async () => {
          const path = `${CASES}${kind}/${file}`;
          const { expected, object } = readFixture(await readFile(path, "utf8"), path);
          assert.deepStrictEqual(assessKubernetesHealth(object), expected);
        });
      }
    });
  }
});
