// Errors as the real API server returns them: a `kind: Status` body with the
// HTTP code, a reason and details, thrown by handlers and written by the server.
import type { JsonObject, ResourceType } from "./types.js";
import { qualifiedKind, qualifiedResource } from "./types.js";

/** One cause of an Invalid or Conflict error (a field and what is wrong with it). */
export interface StatusCause {
  readonly reason: string;
  readonly message: string;
  readonly field?: string;
}

/** An error the server answers with a Status object. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: JsonObject,
  ) {
    super(message);
  }

  /** The Status object the response carries. */
  toStatus(): JsonObject {
    const status: JsonObject = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: this.message, reason: this.reason };
    if (this.details) status["details"] = this.details;
    status["code"] = this.code;
    return status;
  }
}

function details(type: ResourceType, name: string, kindField = type.plural): JsonObject {
  const out: JsonObject = { name };
  if (type.group !== "") out["group"] = type.group;
  out["kind"] = kindField;
  return out;
}

/** 404: `deployments.apps "web" not found`. */
export function notFound(type: ResourceType, name: string): ApiError {
  return new ApiError(404, "NotFound", `${qualifiedResource(type)} "${name}" not found`, details(type, name));
}

/** 404 for a URL that names no resource the server serves. */
export function pathNotFound(): ApiError {
  return new ApiError(404, "NotFound", "the server could not find the requested resource", { causes: [] });
}

/** 409: `configmaps "settings" already exists`. */
export function alreadyExists(type: ResourceType, name: string): ApiError {
  return new ApiError(409, "AlreadyExists", `${qualifiedResource(type)} "${name}" already exists`, details(type, name));
}

/** 409: an update based on a stale resourceVersion. */
export function staleConflict(type: ResourceType, name: string): ApiError {
  return new ApiError(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualifiedResource(type)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    details(type, name),
  );
}

/** 422: `Deployment.apps "web" is invalid: spec.selector: Invalid value: ...: field is immutable`. */
export function invalid(type: ResourceType, name: string, causes: readonly StatusCause[]): ApiError {
  const listed = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  const summary = listed.length === 1 ? listed[0] : `[${listed.join(", ")}]`;
  const d = details(type, name, type.kind);
  d["causes"] = causes.map((c) => ({ ...c }));
  return new ApiError(422, "Invalid", `${qualifiedKind(type)} "${name}" is invalid: ${summary}`, d);
}

/** 400 with a message of the server's own words. */
export function badRequest(message: string): ApiError {
  return new ApiError(400, "BadRequest", message);
}

/** 405 for a verb the resource does not support. */
export function methodNotAllowed(): ApiError {
  return new ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", { causes: [] });
}

/** 415 for a patch or body type the server does not accept. */
export function unsupportedMediaType(contentType: string, accepted: readonly string[]): ApiError {
  return new ApiError(
    415,
    "UnsupportedMediaType",
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(", ")}`,
    { causes: [{ reason: "UnexpectedServerResponse", message: contentType }] },
  );
}

/** 403: writing into a namespace that is being deleted. */
export function namespaceTerminating(type: ResourceType, name: string, namespace: string): ApiError {
  return new ApiError(
    403,
    "Forbidden",
    `${qualifiedResource(type)} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
    details(type, name),
  );
}

/** 410: a watch or list from a resourceVersion the server no longer keeps. */
export function expired(requested: string, oldest: number): ApiError {
  return new ApiError(410, "Expired", `too old resource version: ${requested} (${oldest})`);
}

/** The Status a successful delete returns for most resources. */
export function deleteSuccess(type: ResourceType, name: string, uid: string): JsonObject {
  const d = details(type, name);
  d["uid"] = uid;
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details: d };
}
