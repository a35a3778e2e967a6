import { formatProblem, type Problem } from "../core/errors.js";
import type { EngineEvent } from "../engine/events.js";
import { describeDrift } from "../engine/status.js";
import { redactSecrets } from "../source/repository-url.js";
import type { HistoryEventInput } from "./types.js";
import { count } from "../core/text.js";

/** At most this many problems of a rejected configuration are kept. */
const MAX_PROBLEMS = 20;

/** The problems of a refused revision as the history keeps them: file:line and message, the first MAX_PROBLEMS. */
function problemDetails(problems: readonly Problem[]): Record<string, unknown> {
  const errors = problems.filter((p) => p.severity === "error");
  const kept = errors.length > 0 ? errors : problems;
  return { problems: kept.slice(0, MAX_PROBLEMS).map((p) => redactSecrets(formatProblem(p))), count: kept.length };
}

/**
 * What the history keeps of an engine event, or undefined for events it does
 * not keep (progress, status changes). Field values never go in: drift keeps
 * the paths of the fields that differ, not what they hold.
 */
export function historyEventOf(event: EngineEvent, at: Date, environmentOf: (application: string) => string | undefined): HistoryEventInput | undefined {
  const time = at.toISOString();
  const env = (application: string): { environment?: string } => {
    const environment = environmentOf(application);
    return environment === undefined ? {} : { environment };
  };
  switch (event.type) {
    case "SyncStarted":
      return { type: event.type, at: time, application: event.application, ...env(event.application), revision: event.revision, trigger: event.trigger };
    case "SyncFinished": {
      const { changeSet } = event;
      return {
        type: event.type,
        at: time,
        application: event.application,
        ...env(event.application),
        target: event.target,
        revision: event.revision,
        ...(event.digest ? { digest: event.digest } : {}),
        versions: event.versions,
        outcome: event.outcome,
        reason: event.reason,
        message: redactSecrets(event.message),
        trigger: event.trigger,
        ...(event.commit ? { author: event.commit.author, subject: event.commit.subject } : {}),
        durationMs: event.durationMs,
        changed: changeSet.created.length + changeSet.configured.length + changeSet.deleted.length + (changeSet.released?.length ?? 0) > 0,
        details: {
          changeSet: {
            created: changeSet.created,
            configured: changeSet.configured,
            deleted: changeSet.deleted,
            ...(changeSet.adopted ? { adopted: changeSet.adopted } : {}),
            ...(changeSet.released ? { released: changeSet.released } : {}),
            failed: changeSet.failed.map((f) => ({ key: f.key, message: redactSecrets(f.message) })),
            unchanged: changeSet.unchanged.length,
          },
          ...(event.commit ? { commitTime: event.commit.time } : {}),
        },
      };
    }
    case "DriftDetected":
      return {
        type: event.type,
        at: time,
        application: event.application,
        ...env(event.application),
        revision: event.revision,
        message: `${describeDrift(event.objects.length)}${event.selfHeal ? "" : " (self-heal is off)"}`,
        details: { selfHeal: event.selfHeal, objects: event.objects.map((o) => ({ key: o.key, fields: o.differences.map((d) => d.path) })) },
      };
    case "DriftCorrected":
      return {
        type: event.type,
        at: time,
        application: event.application,
        ...env(event.application),
        revision: event.revision,
        message: `${count(event.objects.length, "object")} put back as Git says`,
        details: { objects: event.objects },
      };
    case "ConfigRejected":
      return {
        type: event.type,
        at: time,
        revision: event.revision,
        outcome: "Failed",
        reason: "ConfigRejected",
        message: redactSecrets(event.problems[0] ? formatProblem(event.problems[0]) : "configuration rejected"),
        details: problemDetails(event.problems),
      };
    case "RevisionRefused":
      return {
        type: event.type,
        at: time,
        application: event.application,
        ...env(event.application),
        revision: event.revision,
        outcome: "Failed",
        reason: event.reason,
        message: redactSecrets(event.message),
        details: problemDetails(event.problems),
      };
    case "ApplicationRemoved":
      return {
        type: event.type,
        at: time,
        application: event.application,
        ...env(event.application),
        message: `removed from the configuration; ${count(event.pruned.length, "object")} pruned`,
        details: { pruned: event.pruned },
      };
    case "Progress":
    case "StatusChanged":
    case "ConfigLoaded":
      return undefined;
  }
}
