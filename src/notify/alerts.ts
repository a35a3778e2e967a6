import { shortRevision } from "../core/ids.js";
import type { NotificationEvent } from "../config/notification.js";
import type { EngineEvent } from "../engine/events.js";
import type { ApplicationStatus } from "../engine/status.js";
import { describeDrift } from "../engine/status.js";
import { count } from "../core/text.js";

/** One thing worth telling people about. */
export interface Alert {
  readonly event: NotificationEvent;
  readonly application: string;
  readonly revision?: string;
  readonly reason: string;
  readonly message: string;
  readonly at: string;
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

/** The body of a Slack-compatible incoming webhook. */
export function slackBody(alert: Alert, agent: string): { text: string } {
  const icon = alert.event === "DriftCorrected" ? ":white_check_mark:" : alert.event === "Rollback" ? ":rewind:" : ":warning:";
  const revision = alert.revision ? ` at ${shortRevision(alert.revision)}` : "";
  return { text: `${icon} *${alert.application}* ${alert.event}${revision}: ${alert.message} (agent ${agent})` };
}

/** The body of a generic webhook: the alert as JSON, with the agent's name. */
export function webhookBody(alert: Alert, agent: string): Alert & { readonly agent: string } {
  return { ...alert, agent };
}
