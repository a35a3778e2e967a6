// Which lists of built-in kinds are associative (merged item by item, keyed by
// some of their fields) and which are sets, as the real types' schemas declare
// them (x-kubernetes-list-type / patchMergeKey); for custom resources, what
// their CRD's schema declares. Every other list is atomic.
import type { JsonObject } from "./types.js";
import { objectField } from "./types.js";

/** How a list merges in server-side apply and strategic merge patch. */
export type ListShape =
  | { readonly type: "map"; readonly keys: readonly string[]; readonly mergeKey: string }
  | { readonly type: "set" }
  | { readonly type: "atomic" };

const ATOMIC: ListShape = { type: "atomic" };
const SET: ListShape = { type: "set" };

function keyed(...keys: string[]): ListShape {
  return { type: "map", keys, mergeKey: keys[0] ?? "" };
}

const CONTAINER_LISTS = new Set(["containers", "initContainers", "ephemeralContainers"]);

/** Lists keyed by the same fields wherever they appear in a built-in kind. */
const BY_NAME: Readonly<Record<string, ListShape>> = {
  containers: keyed("name"),
  initContainers: keyed("name"),
  ephemeralContainers: keyed("name"),
  env: keyed("name"),
  volumes: keyed("name"),
  imagePullSecrets: keyed("name"),
  volumeMounts: keyed("mountPath"),
  volumeDevices: keyed("devicePath"),
  hostAliases: keyed("ip"),
  resourceClaims: keyed("name"),
  topologySpreadConstraints: keyed("topologyKey", "whenUnsatisfiable"),
  conditions: keyed("type"),
};

/** The shape a structural schema declares for the list at `fields` (x-kubernetes-list-type, -list-map-keys). */
function schemaShape(schema: JsonObject, fields: readonly string[]): ListShape {
  let node: JsonObject | undefined = schema;
  for (const [i, field] of fields.entries()) {
    node = objectField(objectField(node, "properties"), field) ?? objectField(node, "additionalProperties");
    if (node && i < fields.length - 1 && node["type"] === "array") node = objectField(node, "items");
  }
  const listType = node?.["x-kubernetes-list-type"];
  const keys = node?.["x-kubernetes-list-map-keys"];
  if (listType === "set") return SET;
  if (listType === "map" && Array.isArray(keys) && keys.every((k) => typeof k === "string")) return keyed(...(keys as string[]));
  return ATOMIC;
}

/**
 * The shape of the list at `fields` (the field names from the root, list items
 * skipped) in an object of `kind`; `builtin` is false for custom resources,
 * whose lists follow their `schema` (atomic without one).
 */
export function listShape(kind: string, builtin: boolean, fields: readonly string[], schema?: JsonObject): ListShape {
  const last = fields[fields.length - 1] ?? "";
  if (fields.length === 2 && fields[0] === "metadata") {
    if (last === "finalizers") return SET;
    if (last === "ownerReferences") return keyed("uid");
    return ATOMIC;
  }
  if (!builtin) return schema ? schemaShape(schema, fields) : ATOMIC;
  if (last === "ports") {
    if (CONTAINER_LISTS.has(fields[fields.length - 2] ?? "")) return keyed("containerPort", "protocol");
    if (kind === "Service" && fields.length === 2 && fields[0] === "spec") return keyed("port", "protocol");
    return ATOMIC;
  }
  return BY_NAME[last] ?? ATOMIC;
}
