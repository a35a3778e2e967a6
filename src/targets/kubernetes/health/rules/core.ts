import type { HealthRuleSpec } from "../rule.js";
import { cond, conditionMessage, field, flag, reason } from "./cel.js";

const HPA_CANNOT_SCALE = `(${cond("AbleToScale", "False")} && conditions.AbleToScale.reason.startsWith('Failed'))`;
const HPA_CANNOT_COMPUTE = `(${cond("ScalingActive", "False")} && (conditions.ScalingActive.reason.startsWith('Failed') || conditions.ScalingActive.reason.startsWith('Invalid')))`;

/** Core kinds whose health is a few fields: written in CEL like any user rule. */
export const CORE_RULES: readonly HealthRuleSpec[] = [
  {
    name: "horizontalpodautoscaler",
    match: [{ group: "autoscaling", kind: "HorizontalPodAutoscaler" }],
    suspended: reason("ScalingActive", ["ScalingDisabled"], "False"),
    // Failing to read the scale or the metrics, or a selector that matches nothing usable; a back-off is not a failure.
    degraded: `${HPA_CANNOT_SCALE} || ${HPA_CANNOT_COMPUTE}`,
    progressing: "size(conditions) == 0 && !has(status.currentReplicas)",
    healthy: "true",
    message:
      "health == 'Suspended' ? 'scaling is disabled' : health == 'Degraded' ? (" +
      `${HPA_CANNOT_SCALE} ? 'cannot scale (' + conditions.AbleToScale.reason + '): ' + conditions.AbleToScale.message : 'cannot compute a scale (' + conditions.ScalingActive.reason + '): ' + conditions.ScalingActive.message` +
      ") : health == 'Progressing' ? 'waiting for the first metrics' : " +
      "'at ' + string(int(has(status.currentReplicas) ? status.currentReplicas : 0)) + ' replicas, wanting ' + string(int(has(status.desiredReplicas) ? status.desiredReplicas : 0))",
  },
  {
    // Available=False (no endpoints yet, discovery failing) clears once the serving Deployment is up; past the health timeout it is reported as such.
    name: "apiservice",
    match: [{ group: "apiregistration.k8s.io", kind: "APIService" }],
    degraded: "false",
    progressing: `!${cond("Available", "True")}`,
    healthy: cond("Available", "True"),
    message: `'Available' in conditions ? (${cond("Available", "True")} ? ${conditionMessage("Available", "available")} : ${conditionMessage("Available", "not available")}) : 'waiting for the Available condition'`,
  },
  {
    name: "poddisruptionbudget",
    match: [{ group: "policy", kind: "PodDisruptionBudget" }],
    degraded: reason("DisruptionAllowed", ["SyncFailed"], "False"),
    progressing: "!has(status.desiredHealthy) || !has(status.currentHealthy) || status.currentHealthy < status.desiredHealthy",
    healthy: "status.currentHealthy >= status.desiredHealthy",
    message:
      "health == 'Degraded' ? 'cannot compute disruptions: ' + conditions.DisruptionAllowed.message : !has(status.desiredHealthy) ? 'waiting for the controller to count pods' : " +
      "string(int(has(status.currentHealthy) ? status.currentHealthy : 0)) + ' pods healthy, ' + string(int(status.desiredHealthy)) + ' required; ' + string(int(has(status.disruptionsAllowed) ? status.disruptionsAllowed : 0)) + ' disruptions allowed'",
  },
  {
    name: "cronjob",
    match: [{ group: "batch", kind: "CronJob" }],
    suspended: flag("spec.suspend"),
    degraded: "false",
    progressing: "false",
    healthy: "true",
    message: `health == 'Suspended' ? 'schedule is suspended' : 'scheduled ' + ${field("spec.schedule")} + (has(status.lastScheduleTime) ? ', last run at ' + string(status.lastScheduleTime) : ', not run yet')`,
  },
];
