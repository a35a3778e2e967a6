// The HTTP face of the fake: node:http on 127.0.0.1, requests routed to
// discovery, the object API or a watch, every answer JSON, every error a
// Status, and counters of calls and writes.
import type { IncomingMessage, ServerResponse } from "node:http";
import { parse as parseYaml } from "yaml";
import type { FakeCluster } from "./cluster.js";
import { coreVersions, groupList, groupOf, resourceList, versionInfo } from "./discovery.js";
import type { Outcome, Target, WriteOptions } from "./object-api.js";
import type { ResourcePath } from "./routes.js";
import { route } from "./routes.js";
import type { Selector } from "./selectors.js";
import { parseFieldSelector, parseLabelSelector } from "./selectors.js";
import { ApiError, badRequest, methodNotAllowed, pathNotFound, unsupportedMediaType } from "./status.js";
import type { Json, JsonObject } from "./types.js";
import { isObject } from "./types.js";
import { serveWatch } from "./watch.js";
import { groupVersionDocument, openApiIndex, serveOpenApiV2 } from "./openapi.js";
import { paginate } from "./pagination.js";
import { decodeProtobuf } from "./protobuf.js";
import type { Attributes, RbacAuthorizer, UserInfo } from "./rbac.js";
import { ANONYMOUS, RBAC_GROUP } from "./rbac.js";

/** Request and write counters, as a benchmark prints them. */
export interface Stats {
  calls: number;
  writes: number;
  byVerb: Record<string, number>;
  reset(): void;
}

/** Creates zeroed counters. */
export function createStats(): Stats {
  const stats: Stats = {
    calls: 0,
    writes: 0,
    byVerb: {},
    reset() {
      stats.calls = 0;
      stats.writes = 0;
      stats.byVerb = {};
    },
  };
  return stats;
}

const MAX_BODY = 3 * 1024 * 1024;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) reject(new ApiError(413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728"));
      else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function sendJson(res: ServerResponse, code: number, body: Json, warnings: readonly string[] = []): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string | number | string[]> = { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) };
  if (warnings.length > 0) headers["Warning"] = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  res.writeHead(code, headers);
  res.end(text);
}

function decodeBody(contentType: string, raw: string, bytes?: Buffer): Json {
  const media = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  if (raw.trim() === "") throw badRequest("the body of the request is empty");
  // kubectl's typed commands (kubectl create namespace ...) send protobuf.
  if (media === "application/vnd.kubernetes.protobuf" && bytes) return decodeProtobuf(bytes);
  try {
    if (media === "" || media === "application/json" || media === "*/*") return JSON.parse(raw) as Json;
    if (media === "application/yaml") return parseYaml(raw) as Json;
  } catch (error) {
    throw badRequest(`error decoding request body: ${(error as Error).message}`);
  }
  throw unsupportedMediaType(media, ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"]);
}

function writeOptions(query: URLSearchParams, req: IncomingMessage, apply: boolean): WriteOptions {
  const dryRun = query.getAll("dryRun");
  for (const value of dryRun) if (value !== "All") throw badRequest(`Invalid dry run value: ${value}: supported values: "All"`);
  const validation = query.get("fieldValidation");
  if (validation !== null && !["Ignore", "Warn", "Strict", ""].includes(validation)) {
    throw badRequest(`Invalid fieldValidation value: ${validation}: supported values: "Ignore", "Warn", "Strict"`);
  }
  const forceText = query.get("force");
  if (forceText !== null && !apply && forceText !== "false") throw badRequest("force flag must only be set for apply patches");
  const manager = query.get("fieldManager") ?? (apply ? "" : (req.headers["user-agent"] ?? "unknown").split("/")[0] ?? "unknown");
  if (manager.length > 128) throw badRequest(`fieldManager: Too long: may not be more than 128 bytes`);
  const fieldValidation = validation === "Ignore" || validation === "Strict" ? validation : "Warn";
  return { dryRun: dryRun.length > 0, manager, force: forceText === "true", fieldValidation };
}

function selectorsOf(query: URLSearchParams, kind: string): Selector[] {
  return [parseLabelSelector(query.get("labelSelector")), parseFieldSelector(query.get("fieldSelector"), kind)];
}

/** The verb a request counts as. */
function verbOf(method: string, path: ResourcePath | undefined, query: URLSearchParams): string {
  if (!path) return "discovery";
  const watch = query.get("watch");
  switch (method) {
    case "GET":
      if (path.name !== undefined) return "get";
      return watch === "true" || watch === "1" ? "watch" : "list";
    case "POST":
      return "create";
    case "PUT":
      return "update";
    case "PATCH":
      return "patch";
    case "DELETE":
      return path.name === undefined ? "deletecollection" : "delete";
    default:
      return method.toLowerCase();
  }
}

/** The RBAC mode: who a bearer token is (undefined: an unknown token, 401), and the authorizer. */
export interface Authentication {
  readonly userOf: (token: string) => UserInfo | undefined;
  readonly authorizer: RbacAuthorizer;
}

/** 401, as the real server answers a token it does not know. */
function unauthorized(): ApiError {
  return new ApiError(401, "Unauthorized", "Unauthorized");
}

/** Serves HTTP requests against a fake cluster. */
export class FakeHttpServer {
  readonly stats = createStats();
  private readonly watches = new Set<() => void>();

  constructor(
    private readonly cluster: FakeCluster,
    private readonly serverAddress: () => string,
    private readonly bookmarkIntervalMs: number,
    private readonly authentication?: Authentication,
  ) {}

  /** The request's user (RBAC mode): its bearer token's, or system:anonymous without one. */
  private userOf(req: IncomingMessage): UserInfo {
    const header = req.headers.authorization;
    if (header === undefined) return ANONYMOUS;
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    const user = token !== undefined ? this.authentication?.userOf(token) : undefined;
    if (!user) throw unauthorized();
    return user;
  }

  /** Ends every open watch (before the server closes). */
  stopWatches(): void {
    for (const stop of [...this.watches]) stop();
  }

  /** The node:http request listener. */
  handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.serve(req, res).catch((error: unknown) => {
      const status = error instanceof ApiError ? error : new ApiError(500, "InternalError", `Internal error occurred: ${(error as Error).message ?? String(error)}`);
      if (!(error instanceof ApiError)) console.error("fake kube-apiserver:", error);
      if (res.headersSent) res.end();
      else sendJson(res, status.code, status.toStatus());
    });
  };

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const query = url.searchParams;
    const method = (req.method ?? "GET").toUpperCase();
    const found = route(this.cluster.registry, url.pathname);
    const path = found.kind === "resource" ? found : undefined;
    const verb = verbOf(method, path, query);
    this.stats.calls++;
    this.stats.byVerb[verb] = (this.stats.byVerb[verb] ?? 0) + 1;
    const bytes = method === "GET" || method === "HEAD" ? Buffer.alloc(0) : await readBody(req);
    const raw = bytes.toString("utf8");
    const user = this.authentication ? this.userOf(req) : undefined;
    if (user && this.authentication) {
      const attributes: Attributes = path
        ? {
            user,
            verb,
            resourceRequest: true,
            path: url.pathname,
            apiGroup: path.type.group,
            resource: path.type.plural,
            subresource: path.subresource ?? "",
            // A Namespace is in its own namespace, as the real request info says.
            namespace: path.namespace ?? (path.type.group === "" && path.type.plural === "namespaces" ? (path.name ?? "") : ""),
            name: path.name ?? "",
          }
        : { user, verb: method === "GET" || method === "HEAD" ? "get" : method.toLowerCase(), resourceRequest: false, path: url.pathname, apiGroup: "", resource: "", subresource: "", namespace: "", name: "" };
      this.authentication.authorizer.authorize(attributes);
      const authorizer = this.authentication.authorizer;
      if (path) this.cluster.api.admission = {
        creating: (t) => authorizer.authorize({ ...attributes, verb: "create", name: t.name ?? "" }),
        writing: (type, obj) => {
          if (type.group === RBAC_GROUP) authorizer.confirmNoEscalation(user, type.kind, obj);
        },
      };
    }
    if (found.kind === "openapi-v2" && method === "GET") {
      serveOpenApiV2(req, res);
      return;
    }
    if (found.kind !== "resource") {
      if (method !== "GET") throw found.kind === "not-found" ? pathNotFound() : methodNotAllowed();
      sendJson(res, 200, this.discovery(found));
      return;
    }
    const target = found;
    const before = this.cluster.api.persisted;
    try {
      if (verb === "watch") {
        if (target.name !== undefined) throw methodNotAllowed();
        const stop = serveWatch(
          this.cluster,
          {
            target,
            selectors: selectorsOf(query, target.type.kind),
            resourceVersion: query.get("resourceVersion") ?? undefined,
            allowBookmarks: query.get("allowWatchBookmarks") === "true",
            sendInitialEvents: query.get("sendInitialEvents") === "true",
            timeoutSeconds: query.has("timeoutSeconds") ? Number(query.get("timeoutSeconds")) : undefined,
            bookmarkIntervalMs: this.bookmarkIntervalMs,
          },
          res,
        );
        this.watches.add(stop);
        res.on("close", () => this.watches.delete(stop));
        return;
      }
      const outcome = this.resource(verb, target, query, req, raw, bytes);
      sendJson(res, outcome.code, outcome.body, outcome.warnings);
    } finally {
      this.stats.writes += this.cluster.api.persisted - before;
      this.cluster.api.admission = undefined;
    }
  }

  private resource(verb: string, path: ResourcePath, query: URLSearchParams, req: IncomingMessage, raw: string, bytes: Buffer): Outcome {
    const api = this.cluster.api;
    const target: Target = path;
    const contentType = req.headers["content-type"] ?? "";
    if (path.type.namespaced === false && path.namespace !== undefined) throw pathNotFound();
    const needsNamespace = path.type.namespaced && path.namespace === undefined;
    if (path.subresource === "scale") {
      if (verb === "get") return api.getScale(target);
      if (verb === "update") return api.writeScale(target, decodeBody(contentType, raw), writeOptions(query, req, false));
      if (verb === "patch") return api.patchScale(target, contentType, raw, writeOptions(query, req, false));
      throw methodNotAllowed();
    }
    switch (verb) {
      case "get":
        return api.get(target);
      case "list":
        if (path.subresource !== undefined) throw methodNotAllowed();
        return paginate(api.list(target, selectorsOf(query, path.type.kind)), query);
      case "create":
        if (needsNamespace) throw pathNotFound();
        return api.create(target, decodeBody(contentType, raw, bytes), writeOptions(query, req, false));
      case "update":
        if (path.name === undefined) throw methodNotAllowed();
        return api.update(target, decodeBody(contentType, raw, bytes), writeOptions(query, req, false));
      case "patch": {
        if (path.name === undefined) throw methodNotAllowed();
        const media = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
        return api.patch(target, contentType, raw, writeOptions(query, req, media === "application/apply-patch+yaml"));
      }
      case "delete":
      case "deletecollection": {
        const options: JsonObject = raw.trim() === "" ? {} : (() => {
          const parsed = decodeBody(contentType, raw);
          if (!isObject(parsed)) throw badRequest("DeleteOptions must be an object");
          return parsed;
        })();
        const policy = query.get("propagationPolicy");
        if (policy !== null) options["propagationPolicy"] = policy;
        const bodyDryRun = Array.isArray(options["dryRun"]) && options["dryRun"].includes("All");
        const dryRun = writeOptions(query, req, false).dryRun || bodyDryRun;
        if (verb === "delete") return api.delete(target, options, dryRun);
        return api.deleteCollection(target, selectorsOf(query, path.type.kind), options, dryRun);
      }
      default:
        throw methodNotAllowed();
    }
  }

  private discovery(found: Exclude<ReturnType<typeof route>, ResourcePath>): Json {
    const registry = this.cluster.registry;
    switch (found.kind) {
      case "version":
        return versionInfo();
      case "health":
        return "ok";
      case "core-versions":
        return coreVersions(this.serverAddress());
      case "group-list":
        return groupList(registry);
      case "group": {
        const doc = groupOf(registry, found.group);
        if (!doc) throw pathNotFound();
        return doc;
      }
      case "resource-list": {
        const doc = resourceList(registry, found.group, found.version);
        if (!doc) throw pathNotFound();
        return doc;
      }
      case "openapi-v2":
        throw methodNotAllowed();
      case "openapi-index":
        return openApiIndex(registry);
      case "openapi": {
        const doc = groupVersionDocument(registry, found.group, found.version);
        if (!doc) throw pathNotFound();
        return doc;
      }
      case "not-found":
        throw pathNotFound();
    }
  }
}
