import type { HealthRuleSpec } from "../rule.js";
import { cond, field, flag, kinds, reason } from "./cel.js";

const phase = field("status.phase");
const statusMessage = `(${field("status.message")} != '' ? ': ' + ${field("status.message")} : '')`;

/** Argo Rollouts, Argo Workflows, Argo CD Applications and ApplicationSets. */
export const ARGO_RULES: readonly HealthRuleSpec[] = [
  {
    // Rollouts from v1.0 write status.phase; older ones are read from their conditions and replica counts.
    name: "argo-rollout",
    match: kinds("argoproj.io", "Rollout"),
    suspended: `${flag("spec.paused")} || (has(status.pauseConditions) && size(status.pauseConditions) > 0) || ${phase} == 'Paused'`,
    degraded: `${flag("status.abort")} || ${cond("InvalidSpec", "True")} || ${reason("Progressing", ["ProgressDeadlineExceeded"], "False")} || ${phase} == 'Degraded'`,
    progressing: `${phase} == 'Progressing' || (${phase} == '' && !${cond("Available", "True")})`,
    healthy: `${phase} == 'Healthy' || (${phase} == '' && ${cond("Available", "True")})`,
    message:
      `health == 'Suspended' ? 'rollout is paused' + (has(status.pauseConditions) && size(status.pauseConditions) > 0 ? ' (' + status.pauseConditions[0].reason + ')' : '') : ` +
      `${flag("status.abort")} ? 'rollout is aborted' + ${statusMessage} : ` +
      `${cond("InvalidSpec", "True")} ? 'invalid spec: ' + conditions.InvalidSpec.message : ` +
      `${reason("Progressing", ["ProgressDeadlineExceeded"], "False")} ? 'rollout exceeded its progress deadline: ' + conditions.Progressing.message : ` +
      `(${phase} != '' ? 'rollout is ' + ${phase}.lowerAscii() : health == 'Healthy' ? 'rollout is available' : 'rollout is progressing') + ${statusMessage}`,
  },
  {
    name: "argo-analysisrun",
    match: kinds("argoproj.io", "AnalysisRun", "Experiment"),
    suspended: `${phase} == 'Inconclusive'`,
    degraded: `${phase} in ['Failed', 'Error']`,
    progressing: `${phase} in ['', 'Pending', 'Running']`,
    healthy: `${phase} == 'Successful'`,
    message: `(${phase} == '' ? 'waiting to start' : ${phase} == 'Inconclusive' ? 'inconclusive: waiting for a decision' : ${phase}.lowerAscii()) + ${statusMessage}`,
  },
  {
    name: "argo-workflow",
    match: kinds("argoproj.io", "Workflow"),
    suspended: `${flag("spec.suspend")}`,
    degraded: `${phase} in ['Failed', 'Error']`,
    progressing: `${phase} in ['', 'Pending', 'Running']`,
    healthy: `${phase} == 'Succeeded'`,
    message: `(health == 'Suspended' ? 'workflow is suspended' : ${phase} == '' ? 'waiting to start' : 'workflow ' + ${phase}.lowerAscii()) + ${statusMessage}`,
  },
  {
    name: "argo-cronworkflow",
    match: kinds("argoproj.io", "CronWorkflow"),
    suspended: flag("spec.suspend"),
    degraded: `${cond("SpecError", "True")} || ${cond("SubmissionError", "True")}`,
    progressing: "false",
    healthy: "true",
    message:
      `health == 'Suspended' ? 'schedule is suspended' : ${cond("SpecError", "True")} ? 'invalid spec: ' + conditions.SpecError.message : ` +
      `${cond("SubmissionError", "True")} ? 'submission failed: ' + conditions.SubmissionError.message : 'scheduled'`,
  },
  {
    name: "argo-applicationset",
    match: kinds("argoproj.io", "ApplicationSet"),
    degraded: cond("ErrorOccurred", "True"),
    progressing: `${cond("RolloutProgressing", "True")} || !('ResourcesUpToDate' in conditions)`,
    healthy: cond("ResourcesUpToDate", "True"),
    message:
      `${cond("ErrorOccurred", "True")} ? 'error: ' + conditions.ErrorOccurred.message : ${cond("RolloutProgressing", "True")} ? 'progressive sync: ' + conditions.RolloutProgressing.message : ` +
      `'ResourcesUpToDate' in conditions ? conditions.ResourcesUpToDate.message : 'waiting for the controller to generate applications'`,
  },
  {
    // An Argo CD Application reports its own health; Ferry reads it as is.
    name: "argo-application",
    match: kinds("argoproj.io", "Application"),
    suspended: `${field("status.health.status")} == 'Suspended'`,
    degraded: `${field("status.health.status")} in ['Degraded', 'Missing', 'Unknown']`,
    progressing: `${field("status.health.status")} in ['', 'Progressing']`,
    healthy: `${field("status.health.status")} == 'Healthy'`,
    message:
      `(${field("status.health.status")} == '' ? 'waiting for Argo CD to assess it' : 'Argo CD says ' + ${field("status.health.status")}) + ` +
      `(${field("status.health.message")} != '' ? ': ' + ${field("status.health.message")} : '') + (${field("status.sync.status")} != '' ? ' (' + ${field("status.sync.status")} + ')' : '')`,
  },
];
