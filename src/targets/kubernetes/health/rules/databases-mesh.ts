import type { HealthRuleSpec } from "../rule.js";
import { cond, conditionMessage, field, flag, kinds } from "./cel.js";

const phase = field("status.phase");

/** CloudNativePG cluster phases that stay until someone acts. */
const NEEDS_A_PERSON = `[${[
  "Waiting for user action",
  "Unable to create required cluster objects",
  "Cluster cannot proceed to reconciliation due to an unknown plugin being required",
  "Cluster has incomplete or invalid image catalog",
  "Cluster is unrecoverable and needs manual intervention",
  "Cluster cannot execute instance online upgrade due to missing architecture binary",
]
  .map((p) => `'${p}'`)
  .join(", ")}]`;

/** CloudNativePG. */
export const CLOUDNATIVE_PG_RULES: readonly HealthRuleSpec[] = [
  {
    // The operator writes its phase as a sentence. Switchovers, failovers and upgrades clear by themselves
    // (Progressing); the phases that wait for a person are Degraded.
    name: "cloudnative-pg-cluster",
    match: kinds("postgresql.cnpg.io", "Cluster"),
    suspended: `${cond("cnpg.io/hibernation", "True")} || (has(metadata.annotations) && 'cnpg.io/reconciliation' in metadata.annotations && metadata.annotations['cnpg.io/reconciliation'] == 'disabled')`,
    degraded: `${phase} in ${NEEDS_A_PERSON}`,
    progressing: `${phase} != 'Cluster in healthy state'`,
    healthy: `${phase} == 'Cluster in healthy state'`,
    message:
      `health == 'Suspended' ? (${cond("cnpg.io/hibernation", "True")} ? 'cluster is hibernated' : 'reconciliation is disabled') : (${phase} == '' ? 'waiting for the operator' : ${phase}) + ` +
      `(${field("status.phaseReason")} != '' ? ': ' + ${field("status.phaseReason")} : '') + (has(status.readyInstances) ? ' (' + string(int(status.readyInstances)) + ' of ' + string(int(has(spec.instances) ? spec.instances : 1)) + ' instances ready)' : '')`,
  },
  {
    name: "cloudnative-pg-backup",
    match: kinds("postgresql.cnpg.io", "Backup"),
    degraded: `${phase} == 'failed'`,
    progressing: `${phase} != 'completed'`,
    healthy: `${phase} == 'completed'`,
    message: `(${phase} == '' ? 'backup is pending' : 'backup ' + ${phase}) + (${field("status.error")} != '' ? ': ' + ${field("status.error")} : '')`,
  },
  {
    name: "cloudnative-pg-scheduled-backup",
    match: kinds("postgresql.cnpg.io", "ScheduledBackup"),
    suspended: flag("spec.suspend"),
    degraded: "false",
    progressing: "false",
    healthy: "true",
    message: `health == 'Suspended' ? 'schedule is suspended' : 'scheduled ' + ${field("spec.schedule")} + (has(status.lastScheduleTime) ? ', last backup at ' + string(status.lastScheduleTime) : '')`,
  },
  {
    name: "cloudnative-pg-pooler",
    match: kinds("postgresql.cnpg.io", "Pooler"),
    suspended: flag("spec.pgbouncer.paused"),
    degraded: "false",
    progressing: "!has(status.instances) || status.instances < (has(spec.instances) ? spec.instances : 1)",
    healthy: "true",
    message: `health == 'Suspended' ? 'pooler is paused' : string(int(has(status.instances) ? status.instances : 0)) + ' of ' + string(int(has(spec.instances) ? spec.instances : 1)) + ' instances'`,
  },
];

/** Istio's configuration kinds (their status is written when istiod's status reporting is on) and its installers. */
export const ISTIO_RULES: readonly HealthRuleSpec[] = [
  {
    name: "istio-config",
    match: [
      ...kinds("networking.istio.io", "VirtualService", "DestinationRule", "Gateway", "ServiceEntry", "Sidecar"),
      ...kinds("security.istio.io", "AuthorizationPolicy", "PeerAuthentication", "RequestAuthentication"),
    ],
    degraded: "has(status.validationMessages) && status.validationMessages.exists(m, has(m.level) && m.level == 'ERROR')",
    progressing: cond("Reconciled", "False"),
    healthy: "true",
    message:
      "health == 'Degraded' ? 'invalid: ' + status.validationMessages.filter(m, has(m.level) && m.level == 'ERROR').map(m, has(m.description) ? m.description : (has(m.type) && has(m.type.code) ? m.type.code : 'error')).join('; ') : " +
      `${cond("Reconciled", "False")} ? ${conditionMessage("Reconciled", "not yet distributed to the proxies")} : 'exists'`,
  },
  {
    name: "istio-install",
    match: [...kinds("sailoperator.io", "Istio", "IstioRevision", "IstioCNI", "ZTunnel")],
    degraded: `${cond("Ready", "False")} && conditions.Ready.reason.contains('Error') || ${cond("Reconciled", "False")}`,
    progressing: `!${cond("Ready", "True")}`,
    healthy: cond("Ready", "True"),
    message:
      `${cond("Reconciled", "False")} ? ${conditionMessage("Reconciled", "not reconciled")} : 'Ready' in conditions ? (${cond("Ready", "True")} ? 'ready' : ${conditionMessage("Ready", "not ready")}) : 'waiting for the operator'`,
  },
  {
    name: "istio-operator",
    match: kinds("install.istio.io", "IstioOperator"),
    degraded: `${field("status.status")} in ['ERROR', 'ACTION_REQUIRED']`,
    progressing: `${field("status.status")} in ['', 'NONE', 'UPDATING', 'RECONCILING']`,
    healthy: `${field("status.status")} == 'HEALTHY'`,
    message: `${field("status.status")} == '' ? 'waiting for the operator' : 'install status ' + ${field("status.status")}`,
  },
];
