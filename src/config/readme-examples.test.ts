import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { parseAllDocuments } from "yaml";
import { FERRY_API_VERSION } from "./application.js";
import { FERRY_KINDS, SCHEMA_FILE_NAME } from "./write-json-schema.js";

const README = new URL("../../../README.md", import.meta.url);
const SCHEMA = new URL(`../../../schemas/${SCHEMA_FILE_NAME}`, import.meta.url);

/**
 * Every YAML document of the README's ```yaml blocks, with its README line.
 * A block whose first line is a comment calling it an overlay patch holds
 * patches: they may leave out what the base has (required fields).
 */
async function readmeDocuments(): Promise<{ line: number; document: unknown; patch: boolean }[]> {
  const lines = (await readFile(README, "utf8")).split("\n");
  const out: { line: number; document: unknown; patch: boolean }[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```ya?ml\s*$/.test(lines[i] ?? "")) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end] ?? "")) end++;
    const text = lines.slice(start, end).join("\n");
    const patch = /^#.*overlay patch/.test(lines[start] ?? "");
    for (const document of parseAllDocuments(text)) {
      assert.deepEqual(document.errors, [], `README.md:${start + 1}: the YAML block does not parse`);
      const line = start + 1 + text.slice(0, document.range[0]).split("\n").length - 1;
      out.push({ line, document: document.toJS() as unknown, patch });
    }
    i = end;
  }
  return out;
}

test("every Ferry document in the README validates against the published JSON Schema", async () => {
  const schema = JSON.parse(await readFile(SCHEMA, "utf8")) as { $id: string };
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats.default(ajv);
  const validate = ajv.compile(schema);
  const apiVersions = new Set(FERRY_KINDS.map((k) => k.apiVersion));
  const ferryDocuments = (await readmeDocuments()).filter(({ document }) => {
    const apiVersion = (document as { apiVersion?: unknown } | null)?.apiVersion;
    return typeof apiVersion === "string" && apiVersions.has(apiVersion);
  });
  assert.ok(ferryDocuments.some(({ document }) => (document as { apiVersion: string }).apiVersion === FERRY_API_VERSION), "the README shows Ferry documents");
  assert.equal(schema.$id, "https://json.schemastore.org/ferry.json");
  const failures = ferryDocuments.flatMap(({ line, document, patch }) => {
    if (validate(document)) return [];
    // Whether a patch's document passes is judged on what it says, not on what it leaves to the base.
    const errors = (validate.errors ?? []).filter((e) => !(patch && (e.keyword === "required" || e.keyword === "if")));
    return errors.length === 0 ? [] : [`README.md:${line}: ${errors.map((e) => `${e.instancePath || "/"} ${e.message ?? ""}`).join("; ")}`];
  });
  assert.deepEqual(failures, []);
});
