// Server-side apply: merge an applied configuration into the live object,
// field by field, with ownership per manager; conflicts with other managers
// unless forced; fields the manager no longer applies are removed when nobody
// else owns them.
import type { FieldPath, ShapeContext } from "./field-paths.js";
import { formatPath, parsePathKey, pathKey, removeAt, shapeAt } from "./field-paths.js";
import type { ManagerEntry, Writer } from "./managed-fields.js";
import { changedPaths, findManager, ownableFields, ownedBySomeone, readManagers } from "./managed-fields.js";
import { ApiError } from "./status.js";
import type { Json, JsonObject, ResourceType } from "./types.js";
import { clone, isObject, jsonEqual } from "./types.js";

/** The merged object and the managers after an apply, before the server stores it. */
export interface AppliedObject {
  readonly object: JsonObject;
  readonly managers: ManagerEntry[];
}

/** Merges `applied` into `live` as server-side apply does, keyed lists item by item. */
export function mergeApplied(live: Json | undefined, applied: Json, ctx: ShapeContext, path: FieldPath): Json {
  if (isObject(applied)) {
    const base: JsonObject = isObject(live) ? { ...live } : {};
    for (const [key, value] of Object.entries(applied)) {
      if (value === null) delete base[key];
      else base[key] = mergeApplied(base[key], value, ctx, [...path, `f:${key}`]);
    }
    return base;
  }
  if (Array.isArray(applied)) {
    const shape = shapeAt(ctx, path);
    if (shape.type === "atomic" || !Array.isArray(live)) return clone(applied);
    const base = [...live];
    for (const item of applied) {
      const index =
        shape.type === "set"
          ? base.findIndex((b) => jsonEqual(b, item))
          : base.findIndex((b) => isObject(b) && isObject(item) && shape.keys.every((k) => jsonEqual(b[k], item[k])));
      if (index < 0) base.push(clone(item));
      else if (shape.type === "map") base[index] = mergeApplied(base[index], item, ctx, path);
    }
    return base;
  }
  return applied;
}

/** Refuses items of keyed lists that lack a key field, as the real server does. */
function checkListKeys(value: Json, ctx: ShapeContext, path: FieldPath): void {
  if (isObject(value)) {
    for (const [key, child] of Object.entries(value)) checkListKeys(child, ctx, [...path, `f:${key}`]);
  } else if (Array.isArray(value)) {
    const shape = shapeAt(ctx, path);
    if (shape.type !== "map") return;
    for (const item of value) {
      if (!isObject(item)) throw new ApiError(400, "BadRequest", `${formatPath(path)}: expected an object in an associative list`);
      const missing = shape.keys.find((k) => k !== "protocol" && item[k] === undefined);
      if (missing) {
        throw new ApiError(400, "BadRequest", `failed to create typed patch object: ${formatPath(path)}: element ${JSON.stringify(item)} is missing key field "${missing}"`);
      }
      for (const [key, child] of Object.entries(item)) checkListKeys(child, ctx, [...path, itemKeyPath(item, shape.keys), `f:${key}`]);
    }
  }
}

function itemKeyPath(item: JsonObject, keys: readonly string[]): string {
  const out: JsonObject = {};
  for (const k of [...keys].sort()) if (item[k] !== undefined) out[k] = item[k] ?? null;
  return `k:${JSON.stringify(out)}`;
}

function conflictError(conflicts: readonly { manager: ManagerEntry; path: FieldPath }[]): ApiError {
  const who = (m: ManagerEntry): string => `"${m.manager}"${m.apiVersion ? ` using ${m.apiVersion}` : ""}`;
  const first = conflicts[0];
  let body: string;
  if (conflicts.length === 1 && first) {
    body = `conflict with ${who(first.manager)}: ${formatPath(first.path)}`;
  } else {
    const byManager = new Map<string, string[]>();
    for (const c of conflicts) byManager.set(who(c.manager), [...(byManager.get(who(c.manager)) ?? []), formatPath(c.path)]);
    body = [...byManager.keys()]
      .sort()
      .flatMap((m) => [`conflicts with ${m}:`, ...(byManager.get(m) ?? []).map((p) => `- ${p}`)])
      .join("\n");
  }
  const n = conflicts.length;
  return new ApiError(409, "Conflict", `Apply failed with ${n} conflict${n === 1 ? "" : "s"}: ${body}`, {
    causes: conflicts.map((c) => ({ reason: "FieldManagerConflict", message: `conflict with ${who(c.manager)}`, field: formatPath(c.path) })),
  });
}

/**
 * Applies `applied` (already stripped of fields the server ignores) over `live`
 * for `writer`; throws the real server's 409 on conflicts unless `force`.
 */
export function serverSideApply(
  live: JsonObject | undefined,
  applied: JsonObject,
  type: ResourceType,
  writer: Writer,
  force: boolean,
  now: string,
): AppliedObject {
  const ctx: ShapeContext = { kind: type.kind, builtin: !type.custom, schema: type.schema };
  checkListKeys(applied, ctx, []);
  const base = live ? clone(live) : {};
  const merged = mergeApplied(base, applied, ctx, []) as JsonObject;
  const managers = live ? readManagers(live) : [];
  const appliedFields = new Set(ownableFields(applied, type, writer.subresource).keys());
  const { changed } = changedPaths(live ? ownableFields(live, type, writer.subresource) : new Map(), ownableFields(merged, type, writer.subresource));

  const own = findManager(managers, writer.manager, "Apply", writer.subresource);
  const others = managers.filter((m) => m !== own);
  const conflicts: { manager: ManagerEntry; path: FieldPath }[] = [];
  for (const other of others) {
    for (const key of other.fields) {
      if (appliedFields.has(key) && changed.has(key)) conflicts.push({ manager: other, path: parsePathKey(key) });
    }
  }
  if (conflicts.length > 0) {
    if (!force) throw conflictError(conflicts);
    for (const c of conflicts) c.manager.fields.delete(pathKey(c.path));
  }

  const previous = own?.fields ?? new Set<string>();
  // Shortest first: a list item goes whole before its key fields could be removed from under it.
  const dropped = [...previous].filter((key) => !appliedFields.has(key)).sort((a, b) => parsePathKey(a).length - parsePathKey(b).length);
  let removedAny = false;
  for (const key of dropped) {
    const path = parsePathKey(key);
    if (ownedBySomeone(others, path)) continue;
    removeAt(merged, path, (p) => appliedFields.has(pathKey(p)) || ownedBySomeone(others, p));
    removedAny = true;
  }

  const setChanged = previous.size !== appliedFields.size || [...appliedFields].some((k) => !previous.has(k));
  if (own) {
    own.fields = appliedFields;
    if (setChanged || changed.size > 0 || removedAny) {
      own.time = now;
      own.apiVersion = writer.apiVersion;
    }
  } else {
    managers.push({ manager: writer.manager, operation: "Apply", apiVersion: writer.apiVersion, time: now, subresource: writer.subresource, fields: appliedFields });
  }
  return { object: merged, managers };
}
