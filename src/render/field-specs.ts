/**
 * Field specs, as Kustomize's transformers use them: a path of mapping keys
 * (`spec/template/metadata/labels`) in objects of some kinds. A list met on
 * the way is entered item by item, so `spec/containers/envFrom/configMapRef/name`
 * reaches every container's every entry. Pure; objects are copied, never changed.
 */
import { groupOf } from "../core/ids.js";
import type { JsonObject, JsonValue } from "../core/json.js";
import { isJsonObject } from "../core/json.js";
import type { Manifest } from "../core/objects.js";

/** A kind by API group (`""` for the core group, `apps`, `host.ferry.dev`) and name. */
export interface GroupKind {
  readonly group: string;
  readonly kind: string;
}

/** A field in objects of some kinds (every kind when `kinds` is absent). */
export interface FieldSpec {
  readonly kinds?: readonly GroupKind[];
  readonly path: string;
  /** Create the mapping at `path` (and its parents) when the object lacks it. */
  readonly create?: boolean;
}

/** True when the spec applies to the manifest's kind. */
export function specApplies(spec: FieldSpec, manifest: Manifest): boolean {
  return spec.kinds === undefined || spec.kinds.some((k) => isKind(manifest, k));
}

/** True when the manifest is of that group and kind. */
export function isKind(manifest: Manifest, kind: GroupKind): boolean {
  return manifest.kind === kind.kind && groupOf(manifest.apiVersion) === kind.group;
}

/**
 * Merges `pairs` into every mapping at `path` of `value` (a copy is returned).
 * With `create`, missing mappings on the way are made; a value that is not a
 * mapping where one is expected is left alone (the schema reports it).
 */
export function mergeAtPath(value: JsonValue, path: readonly string[], pairs: Readonly<Record<string, string>>, create: boolean): JsonValue {
  if (Array.isArray(value)) return (value as readonly JsonValue[]).map((item) => mergeAtPath(item, path, pairs, create));
  if (!isJsonObject(value)) return value;
  const [head, ...rest] = path;
  if (head === undefined) return { ...value, ...pairs };
  const child = value[head];
  if (child === undefined) {
    if (!create) return value;
    return { ...value, [head]: mergeAtPath({}, rest, pairs, create) };
  }
  return { ...value, [head]: mergeAtPath(child, rest, pairs, create) };
}

/**
 * Calls `visit` for every string at `path` of `value`, with the mapping that
 * holds it, and puts back what it returns (a copy is returned).
 */
export function mapStringsAtPath(value: JsonValue, path: readonly string[], visit: (holder: JsonObject, text: string) => string): JsonValue {
  if (Array.isArray(value)) return (value as readonly JsonValue[]).map((item) => mapStringsAtPath(item, path, visit));
  if (!isJsonObject(value)) return value;
  const [head, ...rest] = path;
  if (head === undefined) return value;
  const child = value[head];
  if (child === undefined) return value;
  if (rest.length === 0) {
    if (typeof child !== "string") return value;
    const next = visit(value, child);
    return next === child ? value : { ...value, [head]: next };
  }
  return { ...value, [head]: mapStringsAtPath(child, rest, visit) };
}

/** `spec/template/metadata` -> `["spec", "template", "metadata"]`. */
export function pathOf(spec: FieldSpec): string[] {
  return spec.path.split("/").filter((s) => s !== "");
}
