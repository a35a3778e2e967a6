import type { HealthRuleSpec } from "../rule.js";
import { cond, conditionMessage, field, flag, kinds } from "./cel.js";

const phase = field("status.phase");
const failure = `(${field("status.failureReason")} != '' || ${field("status.failureMessage")} != '')`;
const failureText = `(${field("status.failureReason")} + (${field("status.failureMessage")} != '' ? ': ' + ${field("status.failureMessage")} : ''))`;
const paused = `${flag("spec.paused")} || ${cond("Paused", "True")}`;

/** Cluster API: clusters, machines and the sets and control planes that own them. */
export const CLUSTER_API_RULES: readonly HealthRuleSpec[] = [
  {
    name: "cluster-api-cluster",
    match: kinds("cluster.x-k8s.io", "Cluster"),
    suspended: paused,
    degraded: `${failure} || ${phase} == 'Failed'`,
    progressing: `${phase} != 'Provisioned' || !${cond("Ready", "True")}`,
    healthy: `${phase} == 'Provisioned' && ${cond("Ready", "True")}`,
    message:
      `health == 'Suspended' ? 'reconciliation is paused' : ${failure} ? 'failed: ' + ${failureText} : ` +
      `'cluster is ' + (${phase} == '' ? 'pending' : ${phase}.lowerAscii()) + ('Ready' in conditions && conditions.Ready.status != 'True' ? ': ' + ${conditionMessage("Ready", "not ready")} : '')`,
  },
  {
    name: "cluster-api-machine",
    match: [...kinds("cluster.x-k8s.io", "Machine")],
    suspended: paused,
    degraded: `${failure} || ${phase} == 'Failed'`,
    progressing: `${phase} != 'Running' || !${cond("Ready", "True")}`,
    healthy: `${phase} == 'Running' && ${cond("Ready", "True")}`,
    message:
      `health == 'Suspended' ? 'reconciliation is paused' : ${failure} ? 'failed: ' + ${failureText} : ` +
      `'machine is ' + (${phase} == '' ? 'pending' : ${phase}.lowerAscii()) + (${field("status.nodeRef.name")} != '' ? ' as node ' + ${field("status.nodeRef.name")} : '')`,
  },
  {
    name: "cluster-api-machine-set",
    match: [...kinds("cluster.x-k8s.io", "MachineDeployment", "MachineSet", "MachinePool"), ...kinds("controlplane.cluster.x-k8s.io", "KubeadmControlPlane")],
    suspended: paused,
    degraded: `${failure} || ${phase} == 'Failed'`,
    progressing:
      "!has(status.readyReplicas) || status.readyReplicas < (has(spec.replicas) ? spec.replicas : 1) || " +
      `(has(status.updatedReplicas) && status.updatedReplicas < (has(spec.replicas) ? spec.replicas : 1)) || !${cond("Ready", "True")} && 'Ready' in conditions`,
    healthy: "true",
    message:
      `health == 'Suspended' ? 'reconciliation is paused' : ${failure} ? 'failed: ' + ${failureText} : ` +
      "string(int(has(status.readyReplicas) ? status.readyReplicas : 0)) + ' of ' + string(int(has(spec.replicas) ? spec.replicas : 1)) + ' machines ready'",
  },
  {
    name: "cluster-api-machine-health-check",
    match: kinds("cluster.x-k8s.io", "MachineHealthCheck"),
    degraded: cond("RemediationAllowed", "False"),
    progressing: "!has(status.expectedMachines)",
    healthy: "true",
    message:
      `health == 'Degraded' ? ${conditionMessage("RemediationAllowed", "remediation not allowed")} : !has(status.expectedMachines) ? 'waiting for the controller' : ` +
      "string(int(has(status.currentHealthy) ? status.currentHealthy : 0)) + ' of ' + string(int(status.expectedMachines)) + ' machines healthy'",
  },
];
