import type { JsonValue } from "../core/json.js";
import { escapePointerSegment, isJsonObject } from "../core/json.js";
import type { IgnoredField } from "../targets/target.js";
import type { FieldDifference, IgnoredDifference } from "./diff-objects.js";

/**
 * Where the live values of ignored fields differ from what Git declares, each
 * naming the rule that keeps it out of the comparison. A field Git does not
 * declare is left to others and never differs; inside a declared object only
 * the keys Git declares count, so what the server or a controller adds (its
 * defaults) is no difference. A field covered by two rules is shown once,
 * under the first. Pure.
 */
export function ignoredDifferences(fields: readonly IgnoredField[] | undefined, live: Readonly<Record<string, JsonValue>> | undefined): IgnoredDifference[] {
  const out: IgnoredDifference[] = [];
  const seen = new Set<string>();
  for (const field of fields ?? []) {
    if (field.desired === undefined || seen.has(field.pointer)) continue;
    seen.add(field.pointer);
    for (const d of compareDeclared(field.desired, live?.[field.pointer], field.pointer)) {
      if (!out.some((o) => o.path === d.path)) out.push({ ...d, ignoredBy: field.rule });
    }
  }
  return out;
}

function compareDeclared(desired: JsonValue, live: JsonValue | undefined, path: string): FieldDifference[] {
  if (isJsonObject(desired) && isJsonObject(live)) {
    return Object.keys(desired)
      .sort()
      .flatMap((k) => compareDeclared(desired[k] as JsonValue, live[k], `${path}/${escapePointerSegment(k)}`));
  }
  if (live !== undefined && covers(desired, live)) return [];
  return [{ path, desired, ...(live !== undefined ? { live } : {}) }];
}

/** True when `live` holds everything `desired` declares (lists item by item, same length). */
function covers(desired: JsonValue, live: JsonValue | undefined): boolean {
  if (isJsonObject(desired)) return isJsonObject(live) && Object.keys(desired).every((k) => covers(desired[k] as JsonValue, live[k]));
  if (Array.isArray(desired)) return Array.isArray(live) && live.length === desired.length && desired.every((d, i) => covers(d, live[i]));
  return desired === live;
}
