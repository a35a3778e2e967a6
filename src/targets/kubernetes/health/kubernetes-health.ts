import type { Health } from "../../../core/health.js";
import { aggregateHealth } from "../../../core/health.js";
import type { JsonObject } from "../../../core/json.js";
import { stringAt } from "./fields.js";
import { HealthRuleSet } from "./rule-set.js";

/**
 * Health of one live Kubernetes object as the cluster returned it (with its
 * `status`), by the rule of its kind in `rules` (the built-in rules by
 * default), or by the generic kstatus rule. The message says why, without
 * naming the object (`1 of 3 replicas available`); `worstHealth` adds the name. Pure.
 */
export function assessKubernetesHealth(object: JsonObject, rules: HealthRuleSet = HealthRuleSet.builtIn()): Health {
  return rules.health(object);
}

/** `Kind/name`, or `Kind/namespace/name` for a namespaced object: how messages name an object. */
export function kubernetesObjectName(object: JsonObject): string {
  const kind = stringAt(object, "kind") ?? "Object";
  const name = stringAt(object, "metadata.name") ?? "(unnamed)";
  const namespace = stringAt(object, "metadata.namespace");
  return namespace ? `${kind}/${namespace}/${name}` : `${kind}/${name}`;
}

/**
 * The health of a set of live objects: the worst of them, its message naming
 * the object (`Deployment/web: 1 of 3 replicas available`). Ties go to the
 * first object in the order given. Healthy when empty or all are healthy.
 */
export function worstHealth(objects: readonly JsonObject[], rules: HealthRuleSet = HealthRuleSet.builtIn()): Health {
  return aggregateHealth(objects.map((object) => ({ name: kubernetesObjectName(object), health: rules.health(object) })));
}
