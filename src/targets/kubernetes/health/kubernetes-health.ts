import type { Health } from "../../../core/health.js";
import { aggregateHealth } from "../../../core/health.js";
import { groupOf } from "../../../core/ids.js";
import type { JsonObject } from "../../../core/json.js";
import { customResourceDefinitionHealth } from "./crd.js";
import { health, stringAt } from "./fields.js";
import { genericHealth } from "./generic.js";
import { jobHealth } from "./job.js";
import { ingressHealth, serviceHealth } from "./networking.js";
import { podHealth } from "./pod.js";
import { persistentVolumeClaimHealth } from "./storage.js";
import { daemonSetHealth, deploymentHealth, replicaSetHealth, statefulSetHealth } from "./workloads.js";

type Rule = (object: JsonObject) => Health;

/** One rule per `group/Kind`; a kind of the same name in another API group falls back to the generic rule. */
const RULES: ReadonlyMap<string, Rule> = new Map<string, Rule>([
  ["apps/Deployment", deploymentHealth],
  ["apps/StatefulSet", statefulSetHealth],
  ["apps/DaemonSet", daemonSetHealth],
  ["apps/ReplicaSet", replicaSetHealth],
  ["/Pod", podHealth],
  ["batch/Job", jobHealth],
  ["/PersistentVolumeClaim", persistentVolumeClaimHealth],
  ["/Service", serviceHealth],
  ["networking.k8s.io/Ingress", ingressHealth],
  ["extensions/Ingress", ingressHealth],
  ["apiextensions.k8s.io/CustomResourceDefinition", customResourceDefinitionHealth],
]);

/**
 * Health of one live Kubernetes object as the cluster returned it (with its
 * `status`), by the rule of its kind, or by the generic conditions and
 * observedGeneration rule. The message says why, without naming the object
 * (`1 of 3 replicas available`); `worstHealth` adds the name. Pure.
 */
export function assessKubernetesHealth(object: JsonObject): Health {
  const apiVersion = stringAt(object, "apiVersion") ?? "";
  const kind = stringAt(object, "kind") ?? "";
  const rule = RULES.get(`${groupOf(apiVersion)}/${kind}`) ?? genericHealth;
  try {
    return rule(object);
  } catch (error) {
    // The readers never throw on odd fields; this keeps one broken object from hiding the others.
    return health("Unknown", "health could not be assessed", (error as Error).message);
  }
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
export function worstHealth(objects: readonly JsonObject[]): Health {
  return aggregateHealth(objects.map((object) => ({ name: kubernetesObjectName(object), health: assessKubernetesHealth(object) })));
}
