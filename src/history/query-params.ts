import { parseDuration } from "../config/duration.js";
import type { DeploymentQuery, HistoryEventType, HistoryQuery } from "./types.js";
import { HISTORY_EVENT_TYPES } from "./types.js";

/** Filters as text, the way the CLI's options and the API's query string give them. */
export interface HistoryParams {
  readonly application?: string;
  readonly environment?: string;
  readonly version?: string;
  readonly outcome?: string;
  /** Comma-separated event types. */
  readonly type?: string;
  readonly revision?: string;
  readonly since?: string;
  readonly until?: string;
  readonly at?: string;
  readonly limit?: string;
  readonly before?: string;
}

/** A filter that cannot be understood; the message names it. */
export class InvalidHistoryParam extends Error {
  override readonly name = "InvalidHistoryParam";
}

/**
 * A point in time: an ISO date or date-time (`2026-11-17`, `2026-11-17T14:00:00Z`,
 * `2026-11-17 14:00` in local time), `now`, or a duration ago (`90m`, `36h`, `7d`).
 */
export function parseTime(text: string, now: Date, name = "time"): Date {
  const value = text.trim();
  if (value === "now") return now;
  const days = /^(\d+(?:\.\d+)?)d$/.exec(value);
  if (days) return new Date(now.getTime() - Number(days[1]) * 86_400_000);
  const ago = parseDuration(value);
  if (ago !== undefined) return new Date(now.getTime() - ago);
  if (/^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)) {
    const parsed = Date.parse(value.includes(" ") ? value.replace(" ", "T") : value);
    if (!Number.isNaN(parsed)) return new Date(parsed);
  }
  throw new InvalidHistoryParam(`${name}: cannot read ${JSON.stringify(text)} as a time: use 2026-11-17, 2026-11-17T14:00:00Z, now, or a duration ago such as 36h or 7d`);
}

/** The event filters the parameters describe. */
export function historyQueryOf(params: HistoryParams, now: Date): HistoryQuery {
  const types = params.type
    ?.split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "");
  for (const type of types ?? []) {
    if (!HISTORY_EVENT_TYPES.includes(type as HistoryEventType)) {
      throw new InvalidHistoryParam(`type: unknown event type ${JSON.stringify(type)}; known: ${HISTORY_EVENT_TYPES.join(", ")}`);
    }
  }
  if (params.outcome !== undefined && params.outcome !== "Succeeded" && params.outcome !== "Failed") {
    throw new InvalidHistoryParam(`outcome: must be Succeeded or Failed, got ${JSON.stringify(params.outcome)}`);
  }
  return {
    ...common(params),
    ...(params.outcome !== undefined ? { outcome: params.outcome } : {}),
    ...(types && types.length > 0 ? { types: types as HistoryEventType[] } : {}),
    ...(params.since !== undefined ? { since: parseTime(params.since, now, "since") } : {}),
    ...(params.until !== undefined ? { until: parseTime(params.until, now, "until") } : {}),
  };
}

/** The deployment filters the parameters describe. */
export function deploymentQueryOf(params: HistoryParams, now: Date): DeploymentQuery {
  return { ...common(params), ...(params.at !== undefined ? { at: parseTime(params.at, now, "at") } : {}) };
}

function common(params: HistoryParams): HistoryQuery & DeploymentQuery {
  if (params.revision !== undefined && !/^[0-9a-f]{1,64}$/.test(params.revision)) {
    throw new InvalidHistoryParam(`revision: expected hex digits of a commit id, got ${JSON.stringify(params.revision)}`);
  }
  return {
    ...(params.application !== undefined ? { application: params.application } : {}),
    ...(params.environment !== undefined ? { environment: params.environment } : {}),
    ...(params.version !== undefined ? { version: params.version } : {}),
    ...(params.revision !== undefined ? { revision: params.revision } : {}),
    ...(params.limit !== undefined ? { limit: positive(params.limit, "limit") } : {}),
    ...(params.before !== undefined ? { before: positive(params.before, "before") } : {}),
  };
}

function positive(text: string, name: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new InvalidHistoryParam(`${name}: expected a positive whole number, got ${JSON.stringify(text)}`);
  return value;
}
