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

/** The error for a rejected apply: a stalled one for what the input must fix, transient for the server's trouble. */
export function applyError(object: RenderedObject, status: number, body: JsonValue | undefined, verb: string): FerryError {
  const what = objectLabel(object);
  const message = statusMessage(body);
  if (status === 409) {
    const conflicts = conflictsOf(body);
    const list = conflicts.map((c) => `${c.field} (owned by ${c.manager})`).join(", ") || message;
    return stalled(
      "ApplyConflict",
      `${verb} ${what} conflicts with another field manager: ${list}; remove the field from Git, or set spec.kubernetes.forceConflicts: true on the application to take it`,
    );
  }
  if (status === 422 && /immutable/i.test(message)) {
    return stalled(
      "ImmutableField",
      `${verb} ${what} changes a field that cannot change: ${message}; annotate the object ferry.dev/recreate: "true" to delete and recreate it`,
    );
  }
  if (status === 404) return stalled("ApplyRejected", `${verb} ${what}: ${message} (does its namespace exist?)`);
  if (status >= 400 && status < 500 && status !== 429) return stalled("ApplyRejected", `${verb} ${what} was rejected by the API server (${status}): ${message}`);
  return transient("ApiServerError", `${verb} ${what}: the API server answered ${status}: ${message}`);
}
