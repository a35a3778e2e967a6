// Discovery as the real server answers it: /version, /api, /apis, one group,
// and the APIResourceList of one group version (verbs, scope, kind, short
// names, subresources). Aggregated discovery is not served: clients that ask
// for it get the legacy documents, which they accept as a fallback.
import { VERBS } from "./builtin-types.js";
import type { TypeRegistry } from "./registry.js";
import type { JsonObject } from "./types.js";
import { apiVersionOf, hasScale } from "./types.js";

/** The version the fake reports, a Kubernetes release kubectl and client-node accept. */
export function versionInfo(): JsonObject {
  return {
    major: "1",
    minor: "32",
    gitVersion: "v1.32.0",
    gitCommit: "0000000000000000000000000000000000000000",
    gitTreeState: "clean",
    buildDate: "2024-12-11T00:00:00Z",
    goVersion: "go1.23.3",
    compiler: "gc",
    platform: "linux/amd64",
  };
}

/** `/api`: the core group's versions. */
export function coreVersions(serverAddress: string): JsonObject {
  return { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }] };
}

function groupDocument(group: string, versions: readonly string[]): JsonObject {
  const list = versions.map((v) => ({ groupVersion: apiVersionOf(group, v), version: v }));
  return { name: group, versions: list, preferredVersion: list[0] ?? null };
}

/** `/apis`: every named group and its versions. */
export function groupList(registry: TypeRegistry): JsonObject {
  const groups = registry
    .groups()
    .filter((g) => g.group !== "")
    .map((g) => groupDocument(g.group, g.versions));
  return { kind: "APIGroupList", apiVersion: "v1", groups };
}

/** `/apis/<group>`: one group, or undefined when no type of it is served. */
export function groupOf(registry: TypeRegistry, group: string): JsonObject | undefined {
  const found = registry.groups().find((g) => g.group === group && group !== "");
  return found ? { kind: "APIGroup", apiVersion: "v1", ...groupDocument(found.group, found.versions) } : undefined;
}

/** `/api/v1` or `/apis/<group>/<version>`: the resources served there, or undefined. */
export function resourceList(registry: TypeRegistry, group: string, version: string): JsonObject | undefined {
  const types = registry.all().filter((t) => t.group === group && t.versions.includes(version));
  if (types.length === 0) return undefined;
  const resources: JsonObject[] = [];
  for (const t of types) {
    const entry: JsonObject = { name: t.plural, singularName: t.singular, namespaced: t.namespaced, kind: t.kind, verbs: [...VERBS] };
    if (t.shortNames.length > 0) entry["shortNames"] = [...t.shortNames];
    if (t.categories.length > 0) entry["categories"] = [...t.categories];
    resources.push(entry);
    if (t.hasStatus) resources.push({ name: `${t.plural}/status`, singularName: "", namespaced: t.namespaced, kind: t.kind, verbs: ["get", "patch", "update"] });
    if (hasScale(t)) resources.push({ name: `${t.plural}/scale`, singularName: "", namespaced: t.namespaced, group: "autoscaling", version: "v1", kind: "Scale", verbs: ["get", "patch", "update"] });
  }
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion: apiVersionOf(group, version), resources };
}
