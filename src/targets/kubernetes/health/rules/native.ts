import type { HealthRule } from "../rule.js";
import { customResourceDefinitionHealth } from "../crd.js";
import { jobHealth } from "../job.js";
import { ingressHealth, serviceHealth } from "../networking.js";
import { podHealth } from "../pod.js";
import { persistentVolumeClaimHealth } from "../storage.js";
import { daemonSetHealth, deploymentHealth, replicaSetHealth, statefulSetHealth } from "../workloads.js";

const native = (name: string, group: string, kind: string, assess: HealthRule["assess"], ...more: { group: string; kind: string }[]): HealthRule => ({
  name,
  match: [{ group, kind }, ...more],
  source: "built-in",
  assess,
});

/**
 * The core kinds whose health needs arithmetic over several fields (replica
 * counts, container states): written as functions, looked up like any rule,
 * and overridden by a HealthRule for the same kind like any built-in.
 */
export const NATIVE_RULES: readonly HealthRule[] = [
  native("deployment", "apps", "Deployment", deploymentHealth),
  native("statefulset", "apps", "StatefulSet", statefulSetHealth),
  native("daemonset", "apps", "DaemonSet", daemonSetHealth),
  native("replicaset", "apps", "ReplicaSet", replicaSetHealth),
  native("pod", "", "Pod", podHealth),
  native("job", "batch", "Job", jobHealth),
  native("persistentvolumeclaim", "", "PersistentVolumeClaim", persistentVolumeClaimHealth),
  native("service", "", "Service", serviceHealth),
  native("ingress", "networking.k8s.io", "Ingress", ingressHealth, { group: "extensions", kind: "Ingress" }),
  native("customresourcedefinition", "apiextensions.k8s.io", "CustomResourceDefinition", customResourceDefinitionHealth),
];
