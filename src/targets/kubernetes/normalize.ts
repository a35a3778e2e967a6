import type { JsonObject, JsonValue } from "../../core/json.js";
import { canonicalJson, isJsonObject } from "../../core/json.js";
import { ADOPTED_BY_ANNOTATION, OWNED_BY_ANNOTATION } from "./labels.js";

/** Metadata the API server sets and Ferry never declares. */
const SERVER_METADATA = ["managedFields", "resourceVersion", "uid", "generation", "creationTimestamp", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds"];

/**
 * Annotations written by clients and controllers, not by whoever declares the
 * object; Ferry's own marks of who created or adopted it are bookkeeping too
 * (an object labelled before marks existed is not drift for lacking one).
 */
const SERVER_ANNOTATIONS = ["kubectl.kubernetes.io/last-applied-configuration", "deployment.kubernetes.io/revision", OWNED_BY_ANNOTATION, ADOPTED_BY_ANNOTATION];

/**
 * The comparable form of an object as the server returns it (live, or the
 * result of a dry-run apply): without `status`, managed fields and the
 * metadata the server sets, without the ignored fields, keys sorted. Both
 * sides of a comparison come from the server, so defaults it fills in appear
 * on both and never show as differences. Pure.
 */
export function comparableOf(object: JsonObject, ignoredPointers: readonly string[] = []): JsonObject {
  const { status: _status, metadata, ...rest } = object;
  let out: JsonObject = { ...rest, metadata: cleanMetadata(isJsonObject(metadata) ? metadata : {}) };
  for (const pointer of ignoredPointers) out = removePointer(out, pointer);
  return JSON.parse(canonicalJson(out)) as JsonObject;
}

function cleanMetadata(metadata: JsonObject): JsonObject {
  const out: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (SERVER_METADATA.includes(key)) continue;
    if (key === "annotations" && isJsonObject(value)) {
      const kept = Object.fromEntries(Object.entries(value).filter(([k]) => !SERVER_ANNOTATIONS.includes(k)));
      if (Object.keys(kept).length > 0) out[key] = kept;
      continue;
    }
    if (key === "labels" && isJsonObject(value) && Object.keys(value).length === 0) continue;
    out[key] = value;
  }
  return out;
}

/** A copy of `value` without the field at `pointer` (RFC 6901); unchanged when there is none. Pure. */
export function removePointer(value: JsonObject, pointer: string): JsonObject {
  const segments = pointer.split("/").slice(1).map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
  const removed = removeAt(value, segments);
  return isJsonObject(removed) ? removed : value;
}

function removeAt(value: JsonValue, segments: readonly string[]): JsonValue | undefined {
  const [head, ...tail] = segments;
  if (head === undefined) return undefined;
  if (Array.isArray(value)) {
    const index = Number(head);
    if (!Number.isInteger(index) || index < 0 || index >= value.length) return value;
    const item = value[index] as JsonValue;
    if (tail.length === 0) return value.filter((_, i) => i !== index);
    const next = removeAt(item, tail);
    return value.map((v, i) => (i === index ? (next ?? v) : v));
  }
  if (!isJsonObject(value) || !(head in value)) return value;
  const child = value[head] as JsonValue;
  if (tail.length === 0) {
    const { [head]: _gone, ...rest } = value;
    return rest;
  }
  const next = removeAt(child, tail);
  return next === undefined ? value : { ...value, [head]: next };
}

/** The value at a JSON pointer (RFC 6901), or undefined when there is none. Pure. */
export function valueAtPointer(value: JsonValue, pointer: string): JsonValue | undefined {
  let node: JsonValue | undefined = value;
  for (const segment of pointer.split("/").slice(1).map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))) {
    if (Array.isArray(node)) {
      const index = Number(segment);
      node = /^\d+$/.test(segment) && index < node.length ? (node[index] as JsonValue) : undefined;
    } else if (isJsonObject(node) && Object.hasOwn(node, segment)) node = node[segment];
    else return undefined;
  }
  return node;
}

/** A copy of `value` with `field` at `pointer`, creating the mappings on the way; unchanged when a list index on the way does not exist. Pure. */
export function setPointer(value: JsonObject, pointer: string, field: JsonValue): JsonObject {
  const segments = pointer.split("/").slice(1).map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
  const set = setAt(value, segments, field);
  return isJsonObject(set) ? set : value;
}

function setAt(value: JsonValue | undefined, segments: readonly string[], field: JsonValue): JsonValue | undefined {
  const [head, ...tail] = segments;
  if (head === undefined) return field;
  if (Array.isArray(value)) {
    const index = Number(head);
    if (!/^\d+$/.test(head) || index >= value.length) return undefined;
    const next = setAt(value[index] as JsonValue, tail, field);
    return next === undefined ? undefined : value.map((v, i) => (i === index ? next : v));
  }
  const node = isJsonObject(value) ? value : {};
  const next = setAt(node[head], tail, field);
  return next === undefined ? undefined : { ...node, [head]: next };
}
