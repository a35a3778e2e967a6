import { shortRevision } from "../core/ids.js";
import type { NotificationEvent } from "../config/notification.js";
import type { EngineEvent } from "../engine/events.js";
import type { ApplicationStatus } from "../engine/status.js";
import { describeDrift } from "../engine/status.js";
import { count } from "../core/text.js";
import type { PromotionRecord } from "../promote/promotion-state.js";

/** One thing worth telling people about. */
export interface Alert {
  readonly event: NotificationEvent;
  readonly application: string;
  readonly revision?: string;
  readonly reason: string;
  readonly message: string;
  readonly at: string;
  /** Set on promotion alerts: the pipeline, the environment and the version moving through it. */
  readonly pipeline?: string;
  readonly environment?: string;
  readonly version?: string;
}

/**
 * The alerts an engine event raises, if any. Health degrading is a change of
 * state, so it needs the application's previous health; the caller keeps it.
 */
export function alertsOf(event: EngineEvent, previousHealth: (application: string) => string | undefined, now: Date): Alert[] {
  const at = now.toISOString();
  switch (event.type) {
    case "SyncFinished":
      return event.outcome === "Failed"
        ? [{ event: "SyncFailed", application: event.application, revision: event.revision, reason: event.reason, message: event.message, at }]
        : [];
    case "DriftDetected":
      return [
        {
          event: "DriftDetected",
          application: event.application,
          revision: event.revision,
          reason: event.selfHeal ? "DriftDetected" : "DriftDetectedSelfHealOff",
          message: `${describeDrift(event.objects.length)}${event.selfHeal ? "; correcting" : "; self-heal is off, run ferry sync to correct"}`,
          at,
        },
      ];
    case "DriftCorrected":
      return [
        {
          event: "DriftCorrected",
          application: event.application,
          revision: event.revision,
          reason: "DriftCorrected",
          message: `${count(event.objects.length, "object")} put back as Git says`,
          at,
        },
      ];
    case "StatusChanged":
      return degraded(event.status, previousHealth(event.application), at);
    default:
      return [];
  }
}

function degraded(status: ApplicationStatus, previous: string | undefined, at: string): Alert[] {
  if (status.health.status !== "Degraded" || previous === "Degraded") return [];
  return [
    {
      event: "HealthDegraded",
      application: status.name,
      ...(status.sync.revision ? { revision: status.sync.revision } : {}),
      reason: "HealthDegraded",
      message: status.health.message,
      at,
    },
  ];
}

/**
 * The alert a promotion step raises on entering its phase, if any: waiting
 * for approval, passed (the last environment: the pipeline is done), or
 * stopped at a failed gate. The caller calls this only when the phase changed,
 * so a step staying in its phase raises nothing more.
 */
export function promotionAlertOf(record: PromotionRecord, index: number, now: Date): Alert | undefined {
  const step = record.steps[index];
  if (!step) return undefined;
  const { pipeline, version } = record;
  const environment = step.environment;
  const base = { application: step.application, pipeline, environment, version, ...(step.commit ? { revision: step.commit } : {}), at: now.toISOString() };
  switch (step.phase) {
    case "AwaitingApproval":
      return {
        event: "PromotionAwaitingApproval",
        ...base,
        reason: "ApprovalRequired",
        message: `${pipeline} ${version} waits for approval into ${environment}: ferry approve ${pipeline} --env ${environment}`,
      };
    case "Passed": {
      const next = record.steps[index + 1];
      return next
        ? { event: "PromotionSucceeded", ...base, reason: "EnvironmentPassed", message: `${pipeline} ${version} passed ${environment}; next: ${next.environment}` }
        : { event: "PromotionSucceeded", ...base, reason: "PipelineCompleted", message: `${pipeline} ${version} passed ${environment}, the last environment: the promotion is done` };
    }
    case "Failed":
      return {
        event: "PromotionFailed",
        ...base,
        reason: step.reason ?? "GateFailed",
        message: `${pipeline} ${version} stopped in ${environment}: ${step.message ?? "a gate failed"}`,
      };
    default:
      return undefined;
  }
}

const ICONS: Partial<Record<NotificationEvent, string>> = {
  DriftCorrected: ":white_check_mark:",
  Rollback: ":rewind:",
  PromotionAwaitingApproval: ":hourglass:",
  PromotionSucceeded: ":white_check_mark:",
  PromotionFailed: ":x:",
};

/** The body of a Slack-compatible incoming webhook. */
export function slackBody(alert: Alert, agent: string): { text: string } {
  const icon = ICONS[alert.event] ?? ":warning:";
  if (alert.pipeline !== undefined) return { text: `${icon} *${alert.pipeline}* ${alert.event} (${alert.reason}): ${alert.message} (agent ${agent})` };
  const revision = alert.revision ? ` at ${shortRevision(alert.revision)}` : "";
  return { text: `${icon} *${alert.application}* ${alert.event}${revision}: ${alert.message} (agent ${agent})` };
}

/** The body of a generic webhook: the alert as JSON, with the agent's name. */
export function webhookBody(alert: Alert, agent: string): Alert & { readonly agent: string } {
  return { ...alert, agent };
}
