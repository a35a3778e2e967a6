import type { RenderedObject } from "../../core/objects.js";
import { groupOf } from "../../core/ids.js";
import type { IgnoreRule } from "../target.js";

/** One ignored field of one object, with the rule that ignores it (for people: `ignoreDifferences[0]`). */
export interface IgnoredField {
  readonly pointer: string;
  readonly rule: number;
}

/**
 * The fields of an object that an application's ignore rules keep out of
 * comparisons and updates. A rule matches when every selector it sets
 * (group, kind, name, namespace) equals the object's. Pure.
 */
export function ignoredFields(object: Pick<RenderedObject, "manifest">, rules: readonly IgnoreRule[] | undefined): IgnoredField[] {
  const { apiVersion, kind, metadata } = object.manifest;
  const out: IgnoredField[] = [];
  (rules ?? []).forEach((rule, index) => {
    if (rule.group !== undefined && rule.group !== groupOf(apiVersion)) return;
    if (rule.kind !== undefined && rule.kind !== kind) return;
    if (rule.name !== undefined && rule.name !== metadata.name) return;
    if (rule.namespace !== undefined && rule.namespace !== (metadata.namespace ?? "")) return;
    for (const pointer of rule.jsonPointers) out.push({ pointer, rule: index });
  });
  return out;
}
