import type { RenderedObject } from "../../core/objects.js";
import { groupOf } from "../../core/ids.js";
import type { IgnoredField, IgnoreRule } from "../target.js";
import { valueAtPointer } from "./normalize.js";

/**
 * The fields of an object that an application's ignore rules keep out of
 * comparisons and updates, each with the rule that names it and the value Git
 * declares there. A rule matches when every selector it sets (group, kind,
 * name, namespace) equals the object's. Pure.
 */
export function ignoredFields(object: Pick<RenderedObject, "manifest">, rules: readonly IgnoreRule[] | undefined): IgnoredField[] {
  const { apiVersion, kind, metadata } = object.manifest;
  const out: IgnoredField[] = [];
  (rules ?? []).forEach((rule, index) => {
    if (rule.group !== undefined && rule.group !== groupOf(apiVersion)) return;
    if (rule.kind !== undefined && rule.kind !== kind) return;
    if (rule.name !== undefined && rule.name !== metadata.name) return;
    if (rule.namespace !== undefined && rule.namespace !== (metadata.namespace ?? "")) return;
    for (const pointer of rule.jsonPointers) {
      const desired = valueAtPointer(object.manifest, pointer);
      out.push({ pointer, rule: describeRule(rule, index, pointer), ...(desired !== undefined ? { desired } : {}) });
    }
  });
  return out;
}

/** `spec.kubernetes.ignoreDifferences[0] (kind Deployment, /spec/replicas)`: where the rule is and what it selects. */
export function describeRule(rule: IgnoreRule, index: number, pointer: string): string {
  const selectors = (["group", "kind", "name", "namespace"] as const)
    .filter((s) => rule[s] !== undefined)
    .map((s) => `${s} ${rule[s] === "" ? '""' : String(rule[s])}`);
  return `${rule.source ?? `ignoreDifferences[${index}]`} (${[...selectors, pointer].join(", ")})`;
}
