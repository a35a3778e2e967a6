import type { FerryError } from "../../core/errors.js";
import { stalled, transient } from "../../core/errors.js";
import type { JsonValue } from "../../core/json.js";
import { isJsonObject } from "../../core/json.js";
import type { RenderedObject } from "../../core/objects.js";
import { displayKey } from "../../core/ids.js";
import { statusMessage } from "./kube-client.js";

/** A field another manager owns, from a 409 answer to an apply. */
export interface FieldConflict {
  readonly manager: string;
  /** The field, as the server writes it (`.spec.replicas`). */
  readonly field: string;
}

/** The conflicts a 409 Status lists (`conflict with "kubectl-edit" using apps/v1: .spec.replicas`). */
export function conflictsOf(body: JsonValue | undefined): FieldConflict[] {
  const details = isJsonObject(body) && isJsonObject(body.details) ? body.details : {};
  const causes = Array.isArray(details.causes) ? details.causes : [];
  return causes.flatMap((cause) => {
    if (!isJsonObject(cause) || typeof cause.message !== "string") return [];
    const manager = /conflict with "([^"]+)"/.exec(cause.message)?.[1] ?? "another manager";
    const field = typeof cause.field === "string" ? cause.field : cause.message.replace(/^.*: /, "");
    return [{ manager, field }];
  });
}

/** Where an error about an object points people: its kind, namespace, name and source file. */
export function objectLabel(object: RenderedObject): string {
  return `${displayKey(object.key)} (${object.origin.file}:${object.origin.line})`;
}

/**
 * The error for a rejected request about one object, classified as the
 * engine retries it. Stalled is what only a new revision can fix: an object
 * the server finds invalid (422), a malformed request (400), an immutable
 * field. Transient is what can change by itself and is retried with backoff
 * and on every drift event: a conflict with another applier (it may let the
 * field go), missing rights (401/403: credentials rotate, RBAC is granted),
 * an admission webhook's denial (its policy or the objects it reads may
 * change), a missing namespace, throttling and server errors. `cluster`
 * names the context and server for the errors of the moment.
 */
export function applyError(object: RenderedObject, status: number, body: JsonValue | undefined, verb: string, cluster: string): FerryError {
  const what = objectLabel(object);
  const message = statusMessage(body);
  if (status === 409) {
    const conflicts = conflictsOf(body);
    const list = conflicts.map((c) => `${c.field} (owned by ${c.manager})`).join(", ") || message;
    return transient(
      "ApplyConflict",
      `${verb} ${what} conflicts with another field manager: ${list}; retried until that manager lets the field go, or remove the field from Git, or set spec.kubernetes.forceConflicts: true on the application to take it`,
    );
  }
  if (status === 422 && /immutable/i.test(message)) {
    return stalled(
      "ImmutableField",
      `${verb} ${what} changes a field that cannot change: ${message}; annotate the object ferry.dev/recreate: "true" to delete and recreate it`,
    );
  }
  if (/admission webhook|denied the request/i.test(message)) return transient("AdmissionDenied", `${verb} ${what} was denied by admission control on ${cluster} (${status}): ${message}`);
  if (status === 401) return transient("Unauthorized", `${verb} ${what}: ${cluster} refused the credentials (401): ${message}`);
  if (status === 403) return transient("Forbidden", `${verb} ${what}: ${cluster} refused (403): ${message}`);
  if (status === 404) return transient("NotFound", `${verb} ${what}: ${message} (does its namespace exist?)`);
  if (status >= 400 && status < 500 && status !== 429) return stalled("ApplyRejected", `${verb} ${what} was rejected by the API server (${status}): ${message}`);
  return transient("ApiServerError", `${verb} ${what}: ${cluster} answered ${status}: ${message}`);
}
