// A minimal OpenAPI v3 as kubectl reads it: the index of group versions, and
// per group version the paths of each resource with the query parameters its
// operations take (kubectl looks for `fieldValidation` on PATCH to decide that
// the server validates fields itself). No schemas: clients that need them for
// client-side validation or patch computation do not find them here.
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TypeRegistry } from "./registry.js";
import type { JsonObject, ResourceType } from "./types.js";

function prefixOf(group: string, version: string): string {
  return group === "" ? `api/${version}` : `apis/${group}/${version}`;
}

/** `/openapi/v3`: where each group version's document is. */
export function openApiIndex(registry: TypeRegistry): JsonObject {
  const paths: JsonObject = {};
  for (const { group, versions } of registry.groups()) {
    for (const version of versions) {
      const prefix = prefixOf(group, version);
      const hash = createHash("sha256").update(JSON.stringify(groupVersionDocument(registry, group, version))).digest("hex").slice(0, 32).toUpperCase();
      paths[prefix] = { serverRelativeURL: `/openapi/v3/${prefix}?hash=${hash}` };
    }
  }
  return { paths };
}

function param(name: string, type = "string"): JsonObject {
  return { name, in: "query", schema: { type, uniqueItems: true } };
}

const WRITE_PARAMS = [param("dryRun"), param("fieldManager"), param("fieldValidation")];

function operations(type: ResourceType, version: string, collection: boolean): JsonObject {
  const gvk = { group: type.group, version, kind: type.kind };
  const op = (action: string, params: JsonObject[]): JsonObject => ({
    "x-kubernetes-action": action,
    "x-kubernetes-group-version-kind": gvk,
    parameters: params,
    responses: { "200": { description: "OK" } },
  });
  if (collection) {
    return {
      get: op("list", [param("labelSelector"), param("fieldSelector"), param("limit", "integer"), param("continue"), param("resourceVersion"), param("watch", "boolean")]),
      post: op("post", WRITE_PARAMS),
      delete: op("deletecollection", [param("labelSelector"), param("fieldSelector"), param("dryRun"), param("propagationPolicy")]),
    };
  }
  return {
    get: op("get", []),
    put: op("put", WRITE_PARAMS),
    patch: op("patch", [...WRITE_PARAMS, param("force", "boolean")]),
    delete: op("delete", [param("dryRun"), param("propagationPolicy")]),
  };
}

/** `/openapi/v3/<api|apis/group>/<version>`: paths of the resources served there, or undefined. */
export function groupVersionDocument(registry: TypeRegistry, group: string, version: string): JsonObject | undefined {
  const types = registry.all().filter((t) => t.group === group && t.versions.includes(version));
  if (types.length === 0) return undefined;
  const paths: JsonObject = {};
  for (const t of types) {
    const base = t.namespaced ? `/${prefixOf(group, version)}/namespaces/{namespace}/${t.plural}` : `/${prefixOf(group, version)}/${t.plural}`;
    paths[base] = operations(t, version, true);
    paths[`${base}/{name}`] = operations(t, version, false);
    if (t.hasStatus) paths[`${base}/{name}/status`] = operations(t, version, false);
  }
  return { openapi: "3.0.0", info: { title: "Kubernetes", version: "v1.32.0" }, paths, components: { schemas: {} } };
}

const V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";

/**
 * `/openapi/v2`: a document without definitions, as protobuf (an empty
 * message) or JSON, whichever the client accepts. Older kubectl reads it to
 * validate manifests on the client and skips kinds it finds no schema for.
 */
export function serveOpenApiV2(req: IncomingMessage, res: ServerResponse): void {
  if ((req.headers["accept"] ?? "").includes(V2_PROTOBUF)) {
    res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": 0 });
    res.end();
    return;
  }
  const text = JSON.stringify({ swagger: "2.0", info: { title: "Kubernetes", version: "v1.32.0" }, paths: {}, definitions: {} });
  res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}
