// The one path every write takes before it is stored: server-set metadata,
// status kept apart from spec, defaults, validation, managed fields,
// generation, and "nothing changed, nothing written".
import { randomBytes, randomUUID } from "node:crypto";
import { applyDefaults } from "./defaults.js";
import type { ManagerEntry, Writer } from "./managed-fields.js";
import { ownableFields, readManagers, recordUpdate, writeManagers } from "./managed-fields.js";
import type { JsonObject, ResourceType } from "./types.js";
import { apiVersionOf, clone, jsonEqual, metadataOf, objectField, readMetadata, stringField } from "./types.js";
import { validateObject, validateUpdate } from "./validation.js";

/** A write about to be stored. */
export interface PendingWrite {
  readonly type: ResourceType;
  readonly namespace: string | undefined;
  /** The stored object being replaced, or undefined for a create. */
  readonly before: JsonObject | undefined;
  /** The whole proposed object (for a status write: its status is what counts). */
  readonly after: JsonObject;
  readonly writer: Writer;
  /** Managers computed by server-side apply; undefined records an Update by the writer. */
  readonly managers: ManagerEntry[] | undefined;
  readonly now: string;
}

/** The current time as the API server writes it: seconds, UTC. */
export function timestamp(date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

const KEPT_METADATA = ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"];

/** A shallow view of the object without its resourceVersion, for "did anything change". */
function withoutVersion(obj: JsonObject): JsonObject {
  const meta: JsonObject = { ...readMetadata(obj) };
  delete meta["resourceVersion"];
  return { ...obj, metadata: meta };
}

/** Everything but metadata and status: what bumps generation when it changes. */
function specPart(obj: JsonObject): JsonObject {
  const copy: JsonObject = { ...obj };
  delete copy["metadata"];
  delete copy["status"];
  delete copy["apiVersion"];
  delete copy["kind"];
  return copy;
}

/** The status a new object starts with, before any controller has seen it. */
function initialStatus(type: ResourceType): JsonObject | undefined {
  if (type.custom) return undefined;
  if (type.kind === "Namespace") return { phase: "Active" };
  if (type.kind === "PersistentVolumeClaim") return { phase: "Pending" };
  if (type.kind === "Pod") return { phase: "Pending", qosClass: "BestEffort" };
  if (type.kind === "Service") return { loadBalancer: {} };
  return type.hasStatus ? {} : undefined;
}

/**
 * Completes a write: returns the object to store, or `before` itself when the
 * write changes nothing (a no-op is never stored, as on the real server).
 * Throws the real server's 422 for invalid objects and immutable fields.
 */
export function prepareWrite(w: PendingWrite): JsonObject {
  const { type, before } = w;
  let after = clone(w.after);
  const subresource = w.writer.subresource;
  if (before && subresource === "status") {
    const status = after["status"];
    after = clone(before);
    if (status === undefined) delete after["status"];
    else after["status"] = status;
  } else if (before && type.hasStatus) {
    if (before["status"] === undefined) delete after["status"];
    else after["status"] = clone(before["status"]);
  }
  after["apiVersion"] = apiVersionOf(type.group, type.versions[0] ?? "");
  after["kind"] = type.kind;
  const meta = metadataOf(after);
  if (type.namespaced) meta["namespace"] = w.namespace ?? "";
  else delete meta["namespace"];
  delete meta["selfLink"];

  if (before) {
    const old = readMetadata(before);
    for (const key of KEPT_METADATA) {
      if (old[key] === undefined) delete meta[key];
      else meta[key] = old[key] ?? null;
    }
    meta["name"] = old["name"] ?? null;
  } else {
    if (!stringField(meta, "name") && stringField(meta, "generateName")) {
      meta["name"] = `${stringField(meta, "generateName")}${randomBytes(3).toString("hex").slice(0, 5)}`;
    }
    meta["uid"] = randomUUID();
    meta["creationTimestamp"] = w.now;
    for (const key of ["deletionTimestamp", "deletionGracePeriodSeconds", "generation"]) delete meta[key];
    if (type.hasStatus && !type.custom) {
      const status = initialStatus(type);
      if (status !== undefined) after["status"] = status;
    } else if (type.hasStatus) {
      delete after["status"];
    }
  }
  if (!type.custom) applyDefaults(type.kind, after);
  validateObject(type, after);
  if (before) validateUpdate(type, before, after);

  if (type.hasGeneration) {
    const previous = before ? Number(objectField(before, "metadata")?.["generation"] ?? 1) : 0;
    meta["generation"] = before && jsonEqual(specPart(before), specPart(after)) ? previous : previous + 1;
  }

  let managers = w.managers;
  if (!managers) {
    managers = before ? readManagers(before) : [];
    const was = before ? ownableFields(before, type, subresource) : new Map();
    recordUpdate(managers, was, ownableFields(after, type, subresource), w.writer, w.now);
  }
  writeManagers(after, managers);

  if (before && jsonEqual(withoutVersion(before), withoutVersion(after))) return before;
  if (before) meta["resourceVersion"] = stringField(metadataOf(before), "resourceVersion") ?? "";
  else delete meta["resourceVersion"];
  return after;
}
