import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { jsonSchemaFor } from "./json-schema.js";
import { FERRY_KINDS, SCHEMA_FILE_NAME, SCHEMA_ID } from "./write-json-schema.js";

test("the committed JSON Schema is the one the code generates (run `npm run schema` after changing a kind)", async () => {
  const committed = await readFile(new URL(`../../../schemas/${SCHEMA_FILE_NAME}`, import.meta.url), "utf8");
  assert.equal(committed, JSON.stringify(jsonSchemaFor(FERRY_KINDS, SCHEMA_ID), null, 2) + "\n");
});
