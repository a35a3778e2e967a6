// The three patch formats of PATCH requests that are not server-side apply:
// JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch.
import type { ShapeContext } from "./field-paths.js";
import { listShape } from "./list-shapes.js";
import { ApiError, badRequest } from "./status.js";
import type { Json, JsonObject } from "./types.js";
import { clone, isObject, jsonEqual } from "./types.js";

/** Applies a JSON merge patch: objects merge, null deletes, anything else replaces. */
export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

function invalidPatch(message: string): ApiError {
  return new ApiError(422, "Invalid", `the server rejected our request due to an error in our request: ${message}`);
}

function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw invalidPatch(`invalid JSON pointer "${pointer}"`);
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function containerAt(doc: Json, segments: readonly string[], op: string, pointer: string): Json {
  let node = doc;
  for (const segment of segments) {
    const next: Json | undefined = Array.isArray(node) ? node[Number(segment)] : isObject(node) ? node[segment] : undefined;
    if (next === undefined) throw invalidPatch(`jsonpatch ${op} operation does not apply: doc is missing path: "${pointer}"`);
    node = next;
  }
  return node;
}

function readAt(doc: Json, pointer: string, op: string): Json {
  const segments = parsePointer(pointer);
  return segments.length === 0 ? doc : (readChild(containerAt(doc, segments.slice(0, -1), op, pointer), segments[segments.length - 1] ?? "", op, pointer));
}

function readChild(parent: Json, key: string, op: string, pointer: string): Json {
  const value = Array.isArray(parent) ? parent[Number(key)] : isObject(parent) ? parent[key] : undefined;
  if (value === undefined) throw invalidPatch(`jsonpatch ${op} operation does not apply: doc is missing path: "${pointer}"`);
  return value;
}

function writeAt(doc: Json, pointer: string, value: Json | undefined, op: "add" | "replace" | "remove"): Json {
  const segments = parsePointer(pointer);
  if (segments.length === 0) {
    if (value === undefined) throw invalidPatch("cannot remove the whole document");
    return value;
  }
  const parent = containerAt(doc, segments.slice(0, -1), op, pointer);
  const key = segments[segments.length - 1] ?? "";
  if (Array.isArray(parent)) {
    const index = key === "-" ? parent.length : Number(key);
    const max = op === "add" ? parent.length : parent.length - 1;
    if (!Number.isInteger(index) || index < 0 || index > max) throw invalidPatch(`jsonpatch ${op} operation does not apply: index out of range in "${pointer}"`);
    if (op === "add" && value !== undefined) parent.splice(index, 0, value);
    else if (op === "replace" && value !== undefined) parent[index] = value;
    else parent.splice(index, 1);
  } else if (isObject(parent)) {
    if (op !== "add" && !(key in parent)) throw invalidPatch(`jsonpatch ${op} operation does not apply: doc is missing key: "${pointer}"`);
    if (value === undefined) delete parent[key];
    else parent[key] = value;
  } else {
    throw invalidPatch(`jsonpatch ${op} operation does not apply: "${pointer}" is inside a scalar`);
  }
  return doc;
}

/** Applies a JSON patch (add, remove, replace, move, copy, test). */
export function jsonPatch(target: JsonObject, operations: Json): Json {
  if (!Array.isArray(operations)) throw badRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch");
  let doc: Json = clone(target);
  for (const operation of operations) {
    if (!isObject(operation)) throw badRequest("json: cannot unmarshal a non-object into jsonpatch.Operation");
    const op = typeof operation["op"] === "string" ? operation["op"] : "";
    const path = typeof operation["path"] === "string" ? operation["path"] : "";
    const from = typeof operation["from"] === "string" ? operation["from"] : "";
    const value = operation["value"];
    switch (op) {
      case "add":
      case "replace":
        if (value === undefined) throw invalidPatch(`jsonpatch ${op} operation is missing a value`);
        doc = writeAt(doc, path, clone(value), op);
        break;
      case "remove":
        doc = writeAt(doc, path, undefined, "remove");
        break;
      case "move": {
        const moved = readAt(doc, from, op);
        doc = writeAt(doc, from, undefined, "remove");
        doc = writeAt(doc, path, moved, "add");
        break;
      }
      case "copy":
        doc = writeAt(doc, path, clone(readAt(doc, from, op)), "add");
        break;
      case "test":
        if (!jsonEqual(readAt(doc, path, op), value ?? null)) throw invalidPatch(`testing value ${path} failed: test failed`);
        break;
      default:
        throw badRequest(`Unexpected kind: ${op}`);
    }
  }
  return doc;
}

/** Applies a strategic merge patch to a built-in kind: keyed lists merge by their merge key. */
export function strategicMergePatch(target: JsonObject, patch: JsonObject, ctx: ShapeContext): JsonObject {
  return mergeMap(target, patch, ctx, []) ?? {};
}

function mergeMap(target: Json | undefined, patch: JsonObject, ctx: ShapeContext, fields: string[]): JsonObject | undefined {
  const directive = patch["$patch"];
  if (directive === "delete") return undefined;
  if (directive === "replace") {
    const replaced = clone(patch);
    delete replaced["$patch"];
    return replaced;
  }
  if (directive !== undefined) throw badRequest(`unknown patch type: ${JSON.stringify(directive)} in map`);
  const result: JsonObject = isObject(target) ? { ...target } : {};
  let retain: Json | undefined;
  for (const [key, value] of Object.entries(patch)) {
    if (key === "$patch" || key.startsWith("$setElementOrder/")) continue;
    if (key === "$retainKeys") {
      retain = value;
      continue;
    }
    if (key.startsWith("$deleteFromPrimitiveList/")) {
      const field = key.slice("$deleteFromPrimitiveList/".length);
      const current = result[field];
      if (Array.isArray(current) && Array.isArray(value)) result[field] = current.filter((item) => !value.some((v) => jsonEqual(v, item)));
      continue;
    }
    if (key.startsWith("$")) throw badRequest(`unknown strategic merge patch directive ${key}`);
    if (value === null) {
      delete result[key];
      continue;
    }
    const path = [...fields, key];
    if (isObject(value)) {
      const merged = mergeMap(result[key], value, ctx, path);
      if (merged === undefined) delete result[key];
      else result[key] = merged;
    } else if (Array.isArray(value)) {
      result[key] = mergeList(result[key], value, ctx, path);
    } else {
      result[key] = value;
    }
  }
  if (Array.isArray(retain)) {
    for (const key of Object.keys(result)) if (!retain.includes(key)) delete result[key];
  }
  return result;
}

function mergeList(target: Json | undefined, patch: Json[], ctx: ShapeContext, fields: string[]): Json[] {
  const shape = listShape(ctx.kind, ctx.builtin, fields);
  if (shape.type === "atomic") return clone(patch);
  const current = Array.isArray(target) ? [...target] : [];
  if (shape.type === "set") {
    for (const item of patch) if (!current.some((c) => jsonEqual(c, item))) current.push(clone(item));
    return current;
  }
  if (patch.some((item) => isObject(item) && item["$patch"] === "replace")) {
    return clone(patch.filter((item) => !(isObject(item) && item["$patch"] === "replace")));
  }
  const key = shape.mergeKey;
  for (const item of patch) {
    if (!isObject(item)) throw badRequest(`strategic merge patch: list ${fields.join(".")} takes objects with the merge key "${key}"`);
    if (item[key] === undefined) throw badRequest(`map: ${JSON.stringify(item)} does not contain declared merge key: ${key}`);
    const index = current.findIndex((c) => isObject(c) && jsonEqual(c[key], item[key]));
    if (item["$patch"] === "delete") {
      if (index >= 0) current.splice(index, 1);
      continue;
    }
    if (index >= 0) current[index] = mergeMap(current[index], item, ctx, fields) ?? {};
    else current.push(mergeMap(undefined, item, ctx, fields) ?? {});
  }
  return current;
}
