// Which lists of built-in kinds are associative (merged item by item, keyed by
// some of their fields) and which are sets, as the real types' schemas declare
// them (x-kubernetes-list-type / patchMergeKey). Every other list is atomic.

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

/**
 * The shape of the list at `fields` (the field names from the root, list items
 * skipped) in an object of `kind`; `builtin` is false for custom resources,
 * whose lists the fake treats as atomic (it does not read CRD list-type markers).
 */
export function listShape(kind: string, builtin: boolean, fields: readonly string[]): ListShape {
  const last = fields[fields.length - 1] ?? "";
  if (fields.length === 2 && fields[0] === "metadata") {
    if (last === "finalizers") return SET;
    if (last === "ownerReferences") return keyed("uid");
    return ATOMIC;
  }
  if (!builtin) return ATOMIC;
  if (last === "ports") {
    if (CONTAINER_LISTS.has(fields[fields.length - 2] ?? "")) return keyed("containerPort", "protocol");
    if (kind === "Service" && fields.length === 2 && fields[0] === "spec") return keyed("port", "protocol");
    return ATOMIC;
  }
  return BY_NAME[last] ?? ATOMIC;
}
