import type { ResourceKey } from "../core/ids.js";
import type { JsonValue } from "../core/json.js";
import { canonicalJson, escapePointerSegment, isJsonObject } from "../core/json.js";
import type { RenderedObject } from "../core/objects.js";
import type { Comparable, IgnoredField, LiveObject, SecretFields } from "../targets/target.js";
import { ignoredDifferences } from "./ignored-differences.js";
import { maskDifferences } from "./secrets.js";

/** A desired object with the comparable state its target derived from it. */
export interface DesiredState {
  readonly object: RenderedObject;
  readonly state: Comparable;
  /** Fields whose values must never be reported (see secretFieldsOf); compared as they are. */
  readonly secret?: SecretFields;
  /** Fields ignore rules leave out of `state`, with Git's values: shown in the diff, never compared. */
  readonly ignored?: readonly IgnoredField[];
}

/** One field that differs; absent sides are undefined. */
export interface FieldDifference {
  /** JSON pointer inside the comparable state. */
  readonly path: string;
  readonly desired?: JsonValue;
  readonly live?: JsonValue;
  /** Who or what explains the difference, where the target knows (`set by kubectl-edit (Update)`). */
  readonly explanation?: string;
  /** A unified diff of the content behind the field, live to Git (a host File's content); never for a secret one. */
  readonly contentDiff?: string;
}

/**
 * A field whose live value differs from Git's but that an ignore rule keeps
 * out of the comparison: information, not drift. It never makes an object
 * out of sync and is never applied.
 */
export interface IgnoredDifference extends FieldDifference {
  /** The rule that hides it: `spec.kubernetes.ignoreDifferences[0] (kind Deployment, /spec/replicas)`. */
  readonly ignoredBy: string;
}

/** Desired paired with live for one object. */
export type ObjectDiff =
  | { readonly type: "missing"; readonly key: ResourceKey; readonly desired: DesiredState }
  | {
      readonly type: "changed";
      readonly key: ResourceKey;
      readonly desired: DesiredState;
      readonly live: LiveObject;
      readonly differences: readonly FieldDifference[];
      /** Differences ignore rules hide; absent when there are none. */
      readonly ignored?: readonly IgnoredDifference[];
    }
  | { readonly type: "same"; readonly key: ResourceKey; readonly desired: DesiredState; readonly live: LiveObject; readonly ignored?: readonly IgnoredDifference[] }
  /** In the last inventory but no longer desired: a prune candidate. */
  | { readonly type: "orphan"; readonly key: ResourceKey; readonly live?: LiveObject };

/**
 * Pairs desired objects with live ones. Pure. Objects of the last inventory
 * that are no longer desired come out as `orphan` (whether or not they still
 * exist); the result is sorted by key. Differences are found on the real
 * values, then secret values are masked: no secret leaves the diff stage.
 * Fields ignore rules hide come out as `ignored` beside the differences,
 * masked the same way; they never make an object `changed`.
 */
export function diffObjects(
  desired: readonly DesiredState[],
  live: ReadonlyMap<ResourceKey, LiveObject>,
  inventory: readonly ResourceKey[],
): ObjectDiff[] {
  const out: ObjectDiff[] = [];
  const desiredKeys = new Set<ResourceKey>();
  for (const d of desired) {
    const key = d.object.key;
    desiredKeys.add(key);
    const l = live.get(key);
    if (!l) {
      out.push({ type: "missing", key, desired: d });
      continue;
    }
    const differences = maskDifferences(compareValues(d.state, l.state), d.secret);
    const hidden = maskDifferences(ignoredDifferences(d.ignored, l.ignored), d.secret);
    const ignored = hidden.length > 0 ? { ignored: hidden } : {};
    out.push(differences.length === 0 ? { type: "same", key, desired: d, live: l, ...ignored } : { type: "changed", key, desired: d, live: l, differences, ...ignored });
  }
  for (const key of new Set(inventory)) {
    if (desiredKeys.has(key)) continue;
    const l = live.get(key);
    out.push(l ? { type: "orphan", key, live: l } : { type: "orphan", key });
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Field-level differences between two JSON values, as JSON pointers. Arrays compare whole. */
export function compareValues(desired: JsonValue | undefined, live: JsonValue | undefined, path = ""): FieldDifference[] {
  if (isJsonObject(desired) && isJsonObject(live)) {
    const keys = [...new Set([...Object.keys(desired), ...Object.keys(live)])].sort();
    return keys.flatMap((k) => compareValues(desired[k], live[k], `${path}/${escapePointerSegment(k)}`));
  }
  if (desired === undefined && live === undefined) return [];
  if (desired !== undefined && live !== undefined && canonicalJson(desired) === canonicalJson(live)) return [];
  return [{ path, ...(desired !== undefined ? { desired } : {}), ...(live !== undefined ? { live } : {}) }];
}
