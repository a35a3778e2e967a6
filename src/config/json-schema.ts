import { z } from "zod";
import type { JsonObject, JsonValue } from "../core/json.js";
import { escapePointerSegment, isJsonObject } from "../core/json.js";
import { MAX_NAME_LENGTH, MAX_NAMESPACE_LENGTH, OBJECT_NAME_PATTERN } from "../render/names.js";

/** One document kind for the editor schema: `schema` describes its `spec`. */
export interface KindSchema {
  readonly apiVersion: string;
  readonly kind: string;
  readonly schema: z.ZodType;
  /** False for a document whose metadata may be left out (an Overlay); default true. */
  readonly metadataRequired?: boolean;
}

const DRAFT = "https://json-schema.org/draft/2020-12/schema";

const METADATA: JsonObject = {
  type: "object",
  required: ["name"],
  properties: {
    name: { type: "string", pattern: OBJECT_NAME_PATTERN, maxLength: MAX_NAME_LENGTH, description: "Name of the object, unique per kind." },
    namespace: { type: "string", pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", maxLength: MAX_NAMESPACE_LENGTH },
    labels: { type: "object", additionalProperties: { type: "string" } },
    annotations: { type: "object", additionalProperties: { type: "string" } },
  },
  additionalProperties: false,
};

/**
 * One JSON Schema (draft 2020-12) that accepts any of the given documents,
 * for editors (yaml-language-server): `apiVersion` and `kind` are completed
 * from the known pairs, and an if/then per pair checks `spec` against that
 * kind's schema, so errors point at the field rather than at "no match".
 */
export function jsonSchemaFor(kinds: readonly KindSchema[], id?: string): JsonObject {
  const $defs: Record<string, JsonValue> = {};
  const rules: JsonValue[] = [];
  for (const entry of kinds) {
    const id = definitionId(entry);
    const generated = z.toJSONSchema(entry.schema, { target: "draft-2020-12", io: "input", unrepresentable: "any" }) as Record<string, unknown>;
    const { $schema: _draft, $defs: nested, ...root } = generated;
    $defs[id] = rewriteRefs(root, id) as JsonValue;
    for (const [name, definition] of Object.entries(isJsonObject(nested) ? nested : {})) $defs[`${id}.${name}`] = rewriteRefs(definition, id) as JsonValue;
    rules.push({
      if: { properties: { apiVersion: { const: entry.apiVersion }, kind: { const: entry.kind } }, required: ["apiVersion", "kind"] },
      then: { properties: { spec: { $ref: `#/$defs/${escapePointerSegment(id)}` } }, required: entry.metadataRequired === false ? ["spec"] : ["metadata", "spec"] },
    });
  }
  return {
    $schema: DRAFT,
    ...(id !== undefined ? { $id: id } : {}),
    title: "Ferry documents",
    description: `A Ferry document: ${kinds.map((k) => `${k.apiVersion} ${k.kind}`).join(", ")}.`,
    type: "object",
    required: ["apiVersion", "kind"],
    properties: {
      apiVersion: { type: "string", enum: unique(kinds.map((k) => k.apiVersion)) },
      kind: { type: "string", enum: unique(kinds.map((k) => k.kind)) },
      metadata: METADATA,
      spec: { type: "object" },
    },
    additionalProperties: false,
    // Only the known pairs: `ferry.dev/v1` with `Service` is not a document.
    anyOf: kinds.map((k) => ({ properties: { apiVersion: { const: k.apiVersion }, kind: { const: k.kind } } })),
    allOf: rules,
    $defs,
  };
}

/** `host.ferry.dev/v1` + `Service` -> `host.ferry.dev.v1.Service`. */
function definitionId(entry: KindSchema): string {
  return `${entry.apiVersion}.${entry.kind}`.replace(/[^A-Za-z0-9.-]/g, ".");
}

/** A kind's schema moves under `$defs/<id>`: its own `#...` references must follow it. */
function rewriteRefs(value: unknown, id: string): unknown {
  if (Array.isArray(value)) return value.map((item) => rewriteRefs(item, id));
  if (!isJsonObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (key === "$ref" && typeof item === "string" && item.startsWith("#")) out[key] = moveRef(item, id);
    else out[key] = rewriteRefs(item, id);
  }
  return out;
}

function moveRef(ref: string, id: string): string {
  const nested = /^#\/\$defs\/([^/]+)(.*)$/.exec(ref);
  if (nested) return `#/$defs/${escapePointerSegment(`${id}.${nested[1] ?? ""}`)}${nested[2] ?? ""}`;
  return `#/$defs/${escapePointerSegment(id)}${ref.slice(1)}`;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
