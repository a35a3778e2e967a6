import type { Problem } from "../core/errors.js";
import { problemAt } from "../core/errors.js";
import type { ResourceKey } from "../core/ids.js";
import { displayKey, resourceKey } from "../core/ids.js";
import type { JsonObject, JsonValue } from "../core/json.js";
import { escapePointerSegment, isJsonObject } from "../core/json.js";
import { formatLocation } from "../core/location.js";
import type { Manifest, Origin, RenderedObject } from "../core/objects.js";
import { locate } from "../core/objects.js";
import type { ManifestFile } from "./load-files.js";
import { isNamespaceName, isObjectName, NAME_RULE, NAMESPACE_RULE, quoteForMessage } from "./names.js";
import { parseManifests } from "./parse-yaml.js";
import type { RenderResult } from "./renderer.js";

const API_VERSION = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[a-z0-9]+$/;
const KIND = /^[A-Za-z][A-Za-z0-9]{0,62}$/;

/**
 * Renders plain YAML: every document of every file is one object. Each needs
 * `apiVersion`, `kind` and a valid `metadata.name`; an object declared twice
 * is a problem naming both places. Objects come out sorted by key. Pure.
 */
export function renderPlain(files: readonly ManifestFile[]): RenderResult {
  const problems: Problem[] = [];
  const byKey = new Map<ResourceKey, RenderedObject>();
  for (const file of [...files].sort((a, b) => compare(a.path, b.path))) {
    const parsed = parseManifests(file);
    problems.push(...parsed.problems);
    for (const doc of parsed.documents) {
      const origin: Origin = { file: file.path, line: doc.line, column: doc.column, document: doc.document, positions: doc.positions, keyPositions: doc.keyPositions };
      const found = manifestProblems(doc.value, origin);
      if (found.length > 0) {
        problems.push(...found);
        continue;
      }
      const manifest = doc.value as Manifest;
      const key = resourceKey(manifest.apiVersion, manifest.kind, manifest.metadata.name, manifest.metadata.namespace);
      const previous = byKey.get(key);
      if (previous) {
        const first = formatLocation(locate(previous.origin, "/metadata/name"));
        problems.push(problemAt(`${displayKey(key)} is declared twice: first at ${first}`, locate(origin, "/metadata/name"), "/metadata/name"));
        continue;
      }
      byKey.set(key, { key, manifest, origin });
    }
  }
  const objects = [...byKey.values()].sort((a, b) => compare(a.key, b.key));
  return { objects, problems };
}

/** Checks the fields every object needs; the rest belongs to the target's schema. */
function manifestProblems(value: JsonObject, origin: Origin): Problem[] {
  const problems: Problem[] = [];
  const report = (field: string, message: string): void => {
    problems.push(problemAt(message, locate(origin, field), field));
  };
  const apiVersion = value["apiVersion"];
  if (checkString(apiVersion, "/apiVersion", report) && !API_VERSION.test(apiVersion)) {
    report("/apiVersion", `${quoteForMessage(apiVersion)} is not an apiVersion: expected "v1" or "group.example.com/v1"`);
  }
  const kind = value["kind"];
  if (checkString(kind, "/kind", report) && !KIND.test(kind)) {
    report("/kind", `${quoteForMessage(kind)} is not a kind: expected a word of letters and digits such as "Service"`);
  }
  const metadata = value["metadata"];
  if (metadata !== undefined && !isJsonObject(metadata)) {
    report("/metadata", `must be a mapping, got ${typeName(metadata)}`);
    return problems;
  }
  const name = metadata?.["name"];
  if (checkString(name, "/metadata/name", report) && !isObjectName(name)) {
    report("/metadata/name", `${quoteForMessage(name)} is not a valid name: use ${NAME_RULE}`);
  }
  const namespace = metadata?.["namespace"];
  if (namespace !== undefined && checkString(namespace, "/metadata/namespace", report) && !isNamespaceName(namespace)) {
    report("/metadata/namespace", `${quoteForMessage(namespace)} is not a valid namespace: use ${NAMESPACE_RULE}`);
  }
  for (const field of ["labels", "annotations"] as const) checkStringMap(metadata?.[field], `/metadata/${field}`, report);
  return problems;
}

type Report = (field: string, message: string) => void;

function checkString(value: JsonValue | undefined, field: string, report: Report): value is string {
  if (value === undefined) report(field, "required field is missing");
  else if (typeof value !== "string") report(field, `must be a string, got ${typeName(value)}`);
  else if (value === "") report(field, "must not be empty");
  else return true;
  return false;
}

/** Labels and annotations are string -> string; `version: 1.0` is the usual slip. */
function checkStringMap(value: JsonValue | undefined, field: string, report: Report): void {
  if (value === undefined) return;
  if (!isJsonObject(value)) {
    report(field, `must be a mapping of strings, got ${typeName(value)}`);
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    if (typeof item === "string") continue;
    const hint = typeof item === "number" || typeof item === "boolean" ? ` (quote it: "${String(item)}")` : "";
    report(`${field}/${escapePointerSegment(key)}`, `must be a string, got ${typeName(item)}${hint}`);
  }
}

function typeName(value: JsonValue): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return `a ${typeof value}`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
