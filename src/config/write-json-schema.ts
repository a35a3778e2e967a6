import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { overlaySpecSchema } from "../render/overlay.js";
import { TARGETS } from "../targets/registry.js";
import { APPLICATION_KIND, applicationSpecSchema, FERRY_API_VERSION } from "./application.js";
import { HEALTH_RULE_KIND, healthRuleSpecSchema } from "./health-rule.js";
import { NOTIFICATION_KIND, notificationSpecSchema } from "./notification.js";
import { PIPELINE_KIND, pipelineSpecSchema } from "./pipeline.js";
import { POLICY_KIND, policySchema } from "./policy.js";
import type { KindSchema } from "./json-schema.js";
import { jsonSchemaFor } from "./json-schema.js";

/** Every document kind a Ferry repository can hold: the Application, the Pipeline, the Notification, the Policy, the Overlay, the HealthRule and the kinds of every target (the registry's). */
export const FERRY_KINDS: readonly KindSchema[] = [
  { apiVersion: FERRY_API_VERSION, kind: APPLICATION_KIND, schema: applicationSpecSchema },
  { apiVersion: FERRY_API_VERSION, kind: PIPELINE_KIND, schema: pipelineSpecSchema },
  { apiVersion: FERRY_API_VERSION, kind: NOTIFICATION_KIND, schema: notificationSpecSchema },
  { apiVersion: FERRY_API_VERSION, kind: POLICY_KIND, schema: policySchema.shape.spec },
  { apiVersion: FERRY_API_VERSION, kind: "Overlay", schema: overlaySpecSchema, metadataRequired: false },
  { apiVersion: FERRY_API_VERSION, kind: HEALTH_RULE_KIND, schema: healthRuleSpecSchema },
  ...TARGETS.flatMap((t) => t.kindSchemas ?? []),
];

/**
 * Where the schema is published: its `$id`, the address SchemaStore serves it
 * at once it is listed there (editors then pick it for ferry/*.yaml by themselves).
 */
export const SCHEMA_ID = "https://json.schemastore.org/ferry.json";

/** Name of the file editors are pointed at (`# yaml-language-server: $schema=...`). */
export const SCHEMA_FILE_NAME = "ferry.schema.json";

/** Writes `ferry.schema.json` for every Ferry kind into `outDir` (created if needed); returns its path. */
export async function writeJsonSchema(outDir: string): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const file = path.join(outDir, SCHEMA_FILE_NAME);
  await writeFile(file, JSON.stringify(jsonSchemaFor(FERRY_KINDS, SCHEMA_ID), null, 2) + "\n");
  return file;
}

// Run as a script: `node dist/src/config/write-json-schema.js <outDir>`.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const outDir = process.argv[2];
  if (outDir === undefined || process.argv.length > 3) {
    console.error("usage: node dist/src/config/write-json-schema.js <outDir>");
    process.exit(2);
  }
  writeJsonSchema(outDir).then(
    (file) => console.log(`wrote ${file}`),
    (error: unknown) => {
      console.error(`cannot write the json schema: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
