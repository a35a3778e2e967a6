import type { Health, HealthStatus } from "../../../core/health.js";
import type { JsonObject, JsonValue } from "../../../core/json.js";
import { isJsonObject } from "../../../core/json.js";

/**
 * Readers for the loosely typed objects a cluster returns. A field of the
 * wrong type reads as absent, so a rule never throws on odd input.
 */

/** The mapping at a dotted path (`status.loadBalancer`), or undefined. */
export function objectAt(object: JsonObject, path: string): JsonObject | undefined {
  const value = valueAt(object, path);
  return isJsonObject(value) ? value : undefined;
}

/** The list at a dotted path, or an empty list. */
export function listAt(object: JsonObject, path: string): readonly JsonValue[] {
  const value = valueAt(object, path);
  return Array.isArray(value) ? (value as readonly JsonValue[]) : [];
}

/** The mappings of the list at a dotted path, skipping anything else. */
export function objectsAt(object: JsonObject, path: string): readonly JsonObject[] {
  return listAt(object, path).filter(isJsonObject);
}

/** The number at a dotted path, or undefined. */
export function numberAt(object: JsonObject, path: string): number | undefined {
  const value = valueAt(object, path);
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** The string at a dotted path, or undefined. */
export function stringAt(object: JsonObject, path: string): string | undefined {
  const value = valueAt(object, path);
  return typeof value === "string" ? value : undefined;
}

/** True only when the value at a dotted path is the boolean `true`. */
export function isTrue(object: JsonObject, path: string): boolean {
  return valueAt(object, path) === true;
}

/** Paths split once: health is read for every live object on every change. */
const SEGMENTS = new Map<string, readonly string[]>();

function valueAt(object: JsonObject, path: string): JsonValue | undefined {
  let segments = SEGMENTS.get(path);
  if (!segments) SEGMENTS.set(path, (segments = path.split(".")));
  let current: JsonValue | undefined = object;
  for (const segment of segments) {
    if (!isJsonObject(current)) return undefined;
    current = current[segment];
  }
  return current;
}

/** One entry of `status.conditions`, as every Kubernetes API writes them. */
export interface Condition {
  readonly type: string;
  readonly status: "True" | "False" | "Unknown";
  readonly reason: string;
  readonly message: string;
}

/** The conditions of an object's status, in their order; malformed entries are skipped. */
export function conditionsOf(object: JsonObject): readonly Condition[] {
  const out: Condition[] = [];
  for (const entry of objectsAt(object, "status.conditions")) {
    const type = stringAt(entry, "type");
    const status = stringAt(entry, "status");
    if (type === undefined || (status !== "True" && status !== "False" && status !== "Unknown")) continue;
    out.push({ type, status, reason: stringAt(entry, "reason") ?? "", message: stringAt(entry, "message") ?? "" });
  }
  return out;
}

/** The condition of that type, if the object has it. */
export function conditionOf(object: JsonObject, type: string): Condition | undefined {
  return conditionsOf(object).find((c) => c.type === type);
}

/**
 * True while the controller has not yet seen the latest spec:
 * `status.observedGeneration` is behind `metadata.generation`. When
 * `requireObserved` is set, a missing observedGeneration counts as behind
 * (controllers that always write it: Deployment, StatefulSet, DaemonSet,
 * ReplicaSet), for an object that has a generation.
 */
export function generationPending(object: JsonObject, requireObserved = false): boolean {
  const generation = numberAt(object, "metadata.generation");
  const observed = numberAt(object, "status.observedGeneration");
  if (observed === undefined) return requireObserved && generation !== undefined;
  return generation !== undefined && observed < generation;
}

/** The Progressing health said while the controller catches up with the spec. */
export function awaitingObservation(object: JsonObject): Health {
  const generation = numberAt(object, "metadata.generation");
  const observed = numberAt(object, "status.observedGeneration");
  const which = generation === undefined ? "the latest generation" : `generation ${generation}`;
  const seen = observed === undefined ? "" : ` (observed ${observed})`;
  return health("Progressing", `waiting for the controller to observe ${which}${seen}`);
}

/** Builds a Health, adding a condition's own message when there is one. */
export function health(status: HealthStatus, message: string, detail?: string): Health {
  const extra = detail?.trim();
  return { status, message: extra ? `${message}: ${extra}` : message };
}
