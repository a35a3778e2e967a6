// Field paths as server-side apply tracks them: `f:<field>` for a map field,
// `k:{"name":"web"}` for an item of an associative list, `v:<json>` for an item
// of a set. Paths are collected from objects, read and written at, and
// converted to and from the `fieldsV1` trees of metadata.managedFields.
import type { ListShape } from "./list-shapes.js";
import { listShape } from "./list-shapes.js";
import type { Json, JsonObject } from "./types.js";
import { isObject, jsonEqual } from "./types.js";

/** One path, as its elements. */
export type FieldPath = readonly string[];

/** A leaf's value, or MARKER for the presence of a list item. */
export const MARKER = Symbol("item");

/** Paths of an object mapped to their values; keys are `pathKey(path)`. */
export type FieldMap = Map<string, { readonly path: FieldPath; readonly value: Json | typeof MARKER }>;

/** The kind of object paths are collected over, which decides list shapes. */
export interface ShapeContext {
  readonly kind: string;
  readonly builtin: boolean;
  /** A custom resource's schema, for its list types. */
  readonly schema?: JsonObject;
}

/** A path as one string, for sets and maps. */
export function pathKey(path: FieldPath): string {
  return JSON.stringify(path);
}

/** Parses a pathKey back into its path. */
export function parsePathKey(key: string): FieldPath {
  return JSON.parse(key) as string[];
}

function sortedKeyObject(item: JsonObject, keys: readonly string[]): string {
  const out: JsonObject = {};
  for (const key of [...keys].sort()) if (item[key] !== undefined) out[key] = item[key] ?? null;
  return JSON.stringify(out);
}

/** The `k:` element of an item of an associative list. */
export function itemElement(item: JsonObject, keys: readonly string[]): string {
  return `k:${sortedKeyObject(item, keys)}`;
}

/** Names of the fields on the way to a path (list items skipped), for listShape. */
export function fieldNames(path: FieldPath): string[] {
  return path.filter((e) => e.startsWith("f:")).map((e) => e.slice(2));
}

/** The shape of a list at a path. */
export function shapeAt(ctx: ShapeContext, path: FieldPath): ListShape {
  return listShape(ctx.kind, ctx.builtin, fieldNames(path), ctx.schema);
}

/**
 * Every leaf (scalar, atomic list, empty map) and list item of a value, with
 * its path; null values are left out (they mean "unset"), as are paths `skip` refuses.
 */
export function collectFields(value: JsonObject, ctx: ShapeContext, skip: (path: FieldPath) => boolean = () => false): FieldMap {
  const out: FieldMap = new Map();
  const visit = (v: Json, path: string[]): void => {
    if (v === null || skip(path)) return;
    if (isObject(v)) {
      const keys = Object.keys(v);
      if (keys.length === 0 && path.length > 0) out.set(pathKey(path), { path, value: v });
      for (const key of keys) visit(v[key] ?? null, [...path, `f:${key}`]);
      return;
    }
    if (Array.isArray(v)) {
      const shape = shapeAt(ctx, path);
      if (shape.type === "map" && v.every(isObject)) {
        for (const item of v as JsonObject[]) {
          const itemPath = [...path, itemElement(item, shape.keys)];
          out.set(pathKey(itemPath), { path: itemPath, value: MARKER });
          for (const key of Object.keys(item)) visit(item[key] ?? null, [...itemPath, `f:${key}`]);
        }
        return;
      }
      if (shape.type === "set") {
        for (const item of v) {
          const itemPath = [...path, `v:${JSON.stringify(item)}`];
          out.set(pathKey(itemPath), { path: itemPath, value: MARKER });
        }
        return;
      }
    }
    out.set(pathKey(path), { path, value: v });
  };
  visit(value, []);
  return out;
}

function matchesItem(item: Json, element: string): boolean {
  if (element.startsWith("k:")) {
    if (!isObject(item)) return false;
    const wanted = JSON.parse(element.slice(2)) as JsonObject;
    return Object.entries(wanted).every(([k, v]) => jsonEqual(item[k], v));
  }
  return jsonEqual(item, JSON.parse(element.slice(2)) as Json);
}

/** The value at a path, or undefined when absent. */
export function valueAt(root: JsonObject, path: FieldPath): Json | undefined {
  let current: Json | undefined = root;
  for (const element of path) {
    if (element.startsWith("f:")) {
      current = isObject(current) ? current[element.slice(2)] : undefined;
    } else if (Array.isArray(current)) {
      current = current.find((item) => matchesItem(item, element));
    } else {
      return undefined;
    }
    if (current === undefined) return undefined;
  }
  return current;
}

/** Removes the field or list item at a path; empty maps and lists left behind are removed up to `keep`. */
export function removeAt(root: JsonObject, path: FieldPath, keep: (path: FieldPath) => boolean): void {
  if (path.length === 0) return;
  const parentPath = path.slice(0, -1);
  const parent = valueAt(root, parentPath);
  const last = path[path.length - 1] ?? "";
  if (last.startsWith("f:") && isObject(parent)) {
    delete parent[last.slice(2)];
    if (Object.keys(parent).length === 0 && parentPath.length > 0 && !keep(parentPath)) removeAt(root, parentPath, keep);
  } else if (Array.isArray(parent)) {
    const index = parent.findIndex((item) => matchesItem(item, last));
    if (index >= 0) parent.splice(index, 1);
    // A list whose last item went goes too, as a map does: `env: []` is never left behind.
    if (parent.length === 0 && parentPath.length > 0 && !keep(parentPath)) removeAt(root, parentPath, keep);
  }
}

/** A path as the real server prints it in conflicts: `.spec.containers[name="web"].image`. */
export function formatPath(path: FieldPath): string {
  return path
    .map((element) => {
      if (element.startsWith("f:")) return `.${element.slice(2)}`;
      if (element.startsWith("k:")) {
        const keys = JSON.parse(element.slice(2)) as JsonObject;
        return `[${Object.entries(keys)
          .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
          .join(",")}]`;
      }
      return `[=${element.slice(2)}]`;
    })
    .join("");
}

/** A set of paths as a `fieldsV1` tree. */
export function toFieldsV1(paths: Iterable<FieldPath>): JsonObject {
  const root: JsonObject = {};
  for (const path of paths) {
    let node = root;
    for (const element of path) {
      const child = node[element];
      node = isObject(child) ? child : (node[element] = {});
    }
    if (path[path.length - 1]?.startsWith("k:")) node["."] = {};
  }
  return dotFirst(root);
}

/** Puts "." first in every node, as the real server serializes item markers. */
function dotFirst(node: JsonObject): JsonObject {
  const out: JsonObject = {};
  if (node["."] !== undefined) out["."] = {};
  for (const [key, child] of Object.entries(node)) if (key !== ".") out[key] = isObject(child) ? dotFirst(child) : child;
  return out;
}

/** The paths of a `fieldsV1` tree. */
export function fromFieldsV1(tree: JsonObject): FieldPath[] {
  const out: FieldPath[] = [];
  const visit = (node: JsonObject, path: string[]): void => {
    const keys = Object.keys(node);
    if (keys.length === 0 && path.length > 0) out.push(path);
    for (const key of keys) {
      const child = node[key];
      if (key === ".") out.push(path);
      else if (isObject(child)) visit(child, [...path, key]);
    }
  };
  visit(tree, []);
  return out;
}
