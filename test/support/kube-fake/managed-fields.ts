// metadata.managedFields: which manager owns which fields, by operation
// (Apply or Update) and subresource, read from and written to the object.
import type { FieldMap, FieldPath } from "./field-paths.js";
import { collectFields, fromFieldsV1, MARKER, parsePathKey, pathKey, toFieldsV1 } from "./field-paths.js";
import type { Json, JsonObject, ResourceType } from "./types.js";
import { isObject, jsonEqual, metadataOf, stringField } from "./types.js";

/** One entry of metadata.managedFields, with its field set decoded. */
export interface ManagerEntry {
  readonly manager: string;
  readonly operation: "Apply" | "Update";
  apiVersion: string;
  time: string;
  readonly subresource: string | undefined;
  fields: Set<string>;
}

/** Who writes: the manager, the apiVersion of the request, and the subresource ("" for the main resource). */
export interface Writer {
  readonly manager: string;
  readonly apiVersion: string;
  readonly subresource: string | undefined;
}

const SERVER_SET_METADATA = new Set([
  "name",
  "namespace",
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "managedFields",
  "selfLink",
]);

/** The fields of an object a manager can own when writing through `subresource`. */
export function ownableFields(obj: JsonObject, type: ResourceType, subresource: string | undefined): FieldMap {
  return collectFields(obj, { kind: type.kind, builtin: !type.custom, schema: type.schema }, (path) => {
    const first = path[0];
    if (first === undefined) return false;
    if (first === "f:apiVersion" || first === "f:kind") return true;
    if (path.length === 2 && first === "f:metadata" && SERVER_SET_METADATA.has((path[1] ?? "").slice(2))) return true;
    if (subresource === "status") return first !== "f:status";
    return type.hasStatus && first === "f:status";
  });
}

/** The managers recorded on an object. */
export function readManagers(obj: JsonObject): ManagerEntry[] {
  const list = metadataOf(obj)["managedFields"];
  if (!Array.isArray(list)) return [];
  return list.filter(isObject).map((entry) => ({
    manager: stringField(entry, "manager") ?? "",
    operation: stringField(entry, "operation") === "Apply" ? "Apply" : "Update",
    apiVersion: stringField(entry, "apiVersion") ?? "",
    time: stringField(entry, "time") ?? "",
    subresource: stringField(entry, "subresource"),
    fields: new Set(fromFieldsV1(isObject(entry["fieldsV1"]) ? entry["fieldsV1"] : {}).map(pathKey)),
  }));
}

/** Writes the managers into metadata.managedFields, leaving out those that own nothing. */
export function writeManagers(obj: JsonObject, entries: readonly ManagerEntry[]): void {
  const out: Json[] = [];
  for (const e of entries) {
    if (e.fields.size === 0) continue;
    const entry: JsonObject = { manager: e.manager, operation: e.operation, apiVersion: e.apiVersion, time: e.time, fieldsType: "FieldsV1" };
    entry["fieldsV1"] = toFieldsV1([...e.fields].sort().map(parsePathKey));
    if (e.subresource) entry["subresource"] = e.subresource;
    out.push(entry);
  }
  const meta = metadataOf(obj);
  if (out.length > 0) meta["managedFields"] = out;
  else delete meta["managedFields"];
}

/** The entry of one manager for one operation and subresource, if recorded. */
export function findManager(entries: readonly ManagerEntry[], manager: string, operation: "Apply" | "Update", subresource: string | undefined): ManagerEntry | undefined {
  return entries.find((e) => e.manager === manager && e.operation === operation && e.subresource === subresource);
}

/** Paths that differ between two field maps: added or changed in `after`, and removed from `before`. */
export function changedPaths(before: FieldMap, after: FieldMap): { changed: Set<string>; removed: Set<string> } {
  const changed = new Set<string>();
  const removed = new Set<string>();
  for (const [key, entry] of after) {
    const old = before.get(key);
    if (!old) changed.add(key);
    else if (entry.value !== MARKER && (old.value === MARKER || !jsonEqual(old.value, entry.value))) changed.add(key);
  }
  for (const key of before.keys()) if (!after.has(key)) removed.add(key);
  return { changed, removed };
}

/**
 * Records an Update (create, put, non-apply patch): the writer takes the fields
 * it changed, which every other manager loses, and fields it removed leave every set.
 */
export function recordUpdate(entries: ManagerEntry[], before: FieldMap, after: FieldMap, writer: Writer, now: string): ManagerEntry[] {
  const { changed, removed } = changedPaths(before, after);
  if (changed.size === 0 && removed.size === 0) return entries;
  for (const e of entries) {
    for (const key of changed) e.fields.delete(key);
    for (const key of removed) e.fields.delete(key);
  }
  let own = findManager(entries, writer.manager, "Update", writer.subresource);
  if (!own) {
    own = { manager: writer.manager, operation: "Update", apiVersion: writer.apiVersion, time: now, subresource: writer.subresource, fields: new Set() };
    entries.push(own);
  }
  for (const key of changed) own.fields.add(key);
  own.apiVersion = writer.apiVersion;
  own.time = now;
  return entries;
}

/** True when some manager's set holds the path or a path below it. */
export function ownedBySomeone(entries: readonly ManagerEntry[], path: FieldPath): boolean {
  const prefix = pathKey(path).slice(0, -1);
  return entries.some((e) => [...e.fields].some((key) => key === pathKey(path) || key.startsWith(prefix + ",")));
}
