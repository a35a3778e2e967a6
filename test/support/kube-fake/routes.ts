// Parsing a request path into what it addresses: a discovery document or a
// resource target (type, version, namespace, name, subresource).
import type { TypeRegistry } from "./registry.js";
import type { ResourceType } from "./types.js";
import { hasScale } from "./types.js";

/** A parsed resource path. */
export interface ResourcePath {
  readonly kind: "resource";
  readonly type: ResourceType;
  readonly version: string;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  readonly subresource: string | undefined;
}

/** What a path addresses. */
export type Route =
  | { readonly kind: "version" }
  | { readonly kind: "health" }
  | { readonly kind: "core-versions" }
  | { readonly kind: "group-list" }
  | { readonly kind: "group"; readonly group: string }
  | { readonly kind: "resource-list"; readonly group: string; readonly version: string }
  | { readonly kind: "openapi-index" }
  | { readonly kind: "openapi-v2" }
  | { readonly kind: "openapi"; readonly group: string; readonly version: string }
  | ResourcePath
  | { readonly kind: "not-found" };

const NOT_FOUND: Route = { kind: "not-found" };

/** Resolves a URL path against the types served now. */
export function route(registry: TypeRegistry, pathname: string): Route {
  const parts = pathname.split("/").filter((p) => p !== "").map(decodeURIComponent);
  if (pathname === "/version" || pathname === "/version/") return { kind: "version" };
  if (["healthz", "readyz", "livez"].includes(parts[0] ?? "") && parts.length === 1) return { kind: "health" };
  if (parts[0] === "openapi" && parts[1] === "v2" && parts.length === 2) return { kind: "openapi-v2" };
  if (parts[0] === "openapi" && parts[1] === "v3") {
    if (parts.length === 2) return { kind: "openapi-index" };
    if (parts[2] === "api" && parts.length === 4) return { kind: "openapi", group: "", version: parts[3] ?? "" };
    if (parts[2] === "apis" && parts.length === 5) return { kind: "openapi", group: parts[3] ?? "", version: parts[4] ?? "" };
    return NOT_FOUND;
  }
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === "api") {
    if (parts.length === 1) return { kind: "core-versions" };
    group = "";
    version = parts[1] ?? "";
    rest = parts.slice(2);
  } else if (parts[0] === "apis") {
    if (parts.length === 1) return { kind: "group-list" };
    if (parts.length === 2) return { kind: "group", group: parts[1] ?? "" };
    group = parts[1] ?? "";
    version = parts[2] ?? "";
    rest = parts.slice(3);
  } else {
    return NOT_FOUND;
  }
  if (rest.length === 0) return { kind: "resource-list", group, version };
  let namespace: string | undefined;
  // /namespaces/<ns>/<plural>/... addresses a namespaced resource; /namespaces/<name>[/status] the Namespace itself.
  if (rest[0] === "namespaces" && rest.length >= 3 && !(group === "" && (rest[2] === "status" || rest[2] === "finalize") && rest.length === 3)) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  if (rest.length > 3) return NOT_FOUND;
  const [plural = "", name, subresource] = rest;
  const type = registry.byResource(group, version, plural);
  if (!type) return NOT_FOUND;
  if (namespace !== undefined && !type.namespaced) return NOT_FOUND;
  if (subresource !== undefined && !(subresource === "status" && type.hasStatus) && !(subresource === "scale" && hasScale(type))) return NOT_FOUND;
  return { kind: "resource", type, version, namespace, name, subresource };
}
