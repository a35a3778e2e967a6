// The resource types served right now: the built-in ones plus those of every
// CustomResourceDefinition that is Established, looked up by URL or by kind.
import { BUILTIN_TYPES } from "./builtin-types.js";
import type { ObjectStore } from "./store.js";
import { resourceKey } from "./store.js";
import type { JsonObject, ResourceType } from "./types.js";
import { isObject, objectField, splitApiVersion, stringField } from "./types.js";

/** The store key of CRDs. */
export const CRD_RESOURCE = resourceKey("apiextensions.k8s.io", "customresourcedefinitions");

/** True when a CRD's status says Established=True. */
export function isEstablished(crd: JsonObject): boolean {
  const conditions = objectField(crd, "status")?.["conditions"];
  return Array.isArray(conditions) && conditions.some((c) => isObject(c) && c["type"] === "Established" && c["status"] === "True");
}

/** The resource type a CRD declares, with its served versions (storage version first). */
export function typeOfCrd(crd: JsonObject): ResourceType | undefined {
  const spec = objectField(crd, "spec");
  const names = objectField(spec, "names");
  const group = stringField(spec, "group");
  const plural = stringField(names, "plural");
  const kind = stringField(names, "kind");
  const versions = Array.isArray(spec?.["versions"]) ? spec["versions"].filter(isObject) : [];
  if (!group || !plural || !kind) return undefined;
  const served = versions.filter((v) => v["served"] === true).sort((a, b) => (b["storage"] === true ? 1 : 0) - (a["storage"] === true ? 1 : 0));
  const stringList = (value: unknown): string[] => (Array.isArray(value) ? value.filter((s): s is string => typeof s === "string") : []);
  return {
    group,
    versions: served.map((v) => stringField(v, "name") ?? ""),
    plural,
    singular: stringField(names, "singular") ?? kind.toLowerCase(),
    kind,
    listKind: stringField(names, "listKind") ?? `${kind}List`,
    namespaced: spec?.["scope"] !== "Cluster",
    shortNames: stringList(names?.["shortNames"]),
    categories: stringList(names?.["categories"]),
    hasStatus: served.some((v) => objectField(objectField(v, "subresources"), "status") !== undefined),
    hasGeneration: true,
    custom: true,
    schema: objectField(objectField(served[0], "schema"), "openAPIV3Schema"),
  };
}

/** Looks up the types the server serves at this moment. */
export class TypeRegistry {
  constructor(private readonly store: ObjectStore) {}

  /** Built-in types and the types of Established CRDs. */
  all(): ResourceType[] {
    const custom = this.store
      .list(CRD_RESOURCE, undefined)
      .filter(isEstablished)
      .map(typeOfCrd)
      .filter((t): t is ResourceType => t !== undefined && t.versions.length > 0);
    return [...BUILTIN_TYPES, ...custom];
  }

  /** The type served at `/<group>/<version>/<plural>`. */
  byResource(group: string, version: string, plural: string): ResourceType | undefined {
    return this.all().find((t) => t.group === group && t.plural === plural && t.versions.includes(version));
  }

  /** The type of an apiVersion and kind, as `edit` and `get` name objects. */
  byKind(apiVersion: string, kind: string): ResourceType | undefined {
    const { group, version } = splitApiVersion(apiVersion);
    return this.all().find((t) => t.group === group && t.kind === kind && t.versions.includes(version));
  }

  /** Group versions served, in discovery order: `{ group, versions }`. */
  groups(): { group: string; versions: string[] }[] {
    const out = new Map<string, Set<string>>();
    for (const t of this.all()) {
      const set = out.get(t.group) ?? new Set<string>();
      for (const v of t.versions) set.add(v);
      out.set(t.group, set);
    }
    return [...out.entries()].map(([group, versions]) => ({ group, versions: [...versions] }));
  }
}
