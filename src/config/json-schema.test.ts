import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import type { JsonObject } from "../core/json.js";
import { isJsonObject } from "../core/json.js";
import { jsonSchemaFor } from "./json-schema.js";
import { FERRY_KINDS, SCHEMA_FILE_NAME } from "./write-json-schema.js";

/** Every `$ref` in the document, with whether it resolves inside it. */
function refs(schema: JsonObject): { ref: string; resolves: boolean }[] {
  const found: { ref: string; resolves: boolean }[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (isJsonObject(value)) {
      for (const [key, item] of Object.entries(value)) {
        if (key === "$ref" && typeof item === "string") found.push({ ref: item, resolves: resolve(schema, item) !== undefined });
        else walk(item);
      }
    }
  };
  walk(schema);
  return found;
}

function resolve(schema: JsonObject, ref: string): unknown {
  let current: unknown = schema;
  for (const part of ref.replace(/^#\/?/, "").split("/").filter(Boolean)) {
    const key = part.replace(/~1/g, "/").replace(/~0/g, "~");
    current = isJsonObject(current) ? current[key] : undefined;
  }
  return current;
}

describe("jsonSchemaFor", () => {
  it("describes every Ferry kind, with a rule per apiVersion and kind", () => {
    const schema = jsonSchemaFor(FERRY_KINDS);
    assert.equal(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    const properties = schema["properties"] as JsonObject;
    assert.deepEqual((properties["kind"] as JsonObject)["enum"], ["Application", "Pipeline", "Notification", "Overlay", "HealthRule", "Service", "File", "Job"]);
    assert.deepEqual((properties["apiVersion"] as JsonObject)["enum"], ["ferry.dev/v1", "host.ferry.dev/v1"]);
    const rules = schema["allOf"] as JsonObject[];
    assert.equal(rules.length, FERRY_KINDS.length);
    const defs = schema["$defs"] as JsonObject;
    const application = defs["ferry.dev.v1.Application"] as JsonObject;
    const syncPolicy = (application["properties"] as JsonObject)["syncPolicy"] as JsonObject;
    assert.equal(((syncPolicy["properties"] as JsonObject)["interval"] as JsonObject)["default"], "1m");
    assert.equal(application["additionalProperties"], false, "typos are flagged in the editor too");
    const notification = defs["ferry.dev.v1.Notification"] as JsonObject;
    const events = (notification["properties"] as JsonObject)["events"] as JsonObject;
    assert.ok(((events["items"] as JsonObject)["enum"] as string[]).includes("PromotionAwaitingApproval"), "an editor accepts the promotion events");
    const overlay = (defs["ferry.dev.v1.Overlay"] as JsonObject)["properties"] as JsonObject;
    assert.deepEqual(Object.keys(overlay).sort(), ["bases", "commonAnnotations", "commonLabels", "labels", "nameSuffix", "namePrefix"].sort(), "an editor completes an overlay's transformers");
    const overlayRule = rules.find((r) => JSON.stringify(r).includes('"Overlay"')) as JsonObject;
    assert.deepEqual((overlayRule["then"] as JsonObject)["required"], ["spec"], "an overlay file needs no metadata");
    for (const { ref, resolves } of refs(schema)) assert.ok(resolves, `${ref} does not resolve`);
    assert.doesNotMatch(JSON.stringify(defs), /"\$schema"/, "embedded schemas must not repeat $schema");
  });

  it("moves recursive and shared definitions along with their kind", () => {
    const node: z.ZodType = z.object({ name: z.string(), get children() {
      return z.array(node).optional();
    } });
    const shared = z.string().meta({ id: "Shared" });
    const schema = jsonSchemaFor([
      { apiVersion: "x.dev/v1", kind: "Tree", schema: z.object({ root: node }) },
      { apiVersion: "x.dev/v1", kind: "Pair", schema: z.object({ a: shared, b: shared }) },
    ]);
    const all = refs(schema);
    assert.ok(all.length >= 3, JSON.stringify(all));
    for (const { ref, resolves } of all) assert.ok(resolves && ref.startsWith("#/$defs/"), `${ref} does not resolve`);
  });
});

describe("write-json-schema script", () => {
  const script = fileURLToPath(new URL("./write-json-schema.js", import.meta.url));

  it("writes ferry.schema.json into the given directory", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "ferry-schema-"));
    try {
      const out = path.join(dir, "nested", "schemas");
      const run = spawnSync(process.execPath, [script, out], { encoding: "utf8" });
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /wrote .*ferry\.schema\.json/);
      const written = JSON.parse(await readFile(path.join(out, SCHEMA_FILE_NAME), "utf8")) as JsonObject;
      assert.deepEqual(written, JSON.parse(JSON.stringify(jsonSchemaFor(FERRY_KINDS))));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("prints its usage without an output directory", () => {
    const run = spawnSync(process.execPath, [script], { encoding: "utf8" });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /^usage: node dist\/src\/config\/write-json-schema\.js <outDir>/);
  });
});
