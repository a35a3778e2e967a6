import type { HealthStatus } from "../core/health.js";
import { HEALTH_ORDER } from "../core/health.js";
import type { ApplicationStatus } from "../engine/status.js";

/** The sync statuses an application can be in. */
export type SyncStatus = ApplicationStatus["sync"]["status"];
export const SYNC_STATUSES: readonly SyncStatus[] = ["Synced", "OutOfSync", "Unknown"];

/** An application's status as listed: the status plus the environment it deploys to. */
export type ListedApplication = ApplicationStatus & { readonly environment?: string };

/** Filters and page of GET /api/v1/applications; every field narrows. */
export interface ApplicationQuery {
  /** Case-insensitive substring of the name, environment, target, revision or a version. */
  readonly search?: string;
  readonly health?: HealthStatus;
  readonly sync?: SyncStatus;
  readonly environment?: string;
  /** Page size; none: every match (what the CLI asks for). */
  readonly limit?: number;
  /** Cursor: the name of the last application of the previous page. */
  readonly continue?: string;
}

/** One page of applications, sorted by name. */
export interface ApplicationPage {
  readonly items: readonly ListedApplication[];
  /** How many match the filters, over all pages. */
  readonly total: number;
  /** The cursor of the next page; absent on the last. */
  readonly continue?: string;
}

/** The largest page a client may ask for. */
export const MAX_APPLICATION_PAGE = 1000;

/** A query parameter that does not parse; the API answers 400 with its message. */
export class InvalidApplicationQuery extends Error {}

/** Reads the query from URL parameters, refusing values that cannot match anything. */
export function applicationQueryOf(params: URLSearchParams): ApplicationQuery {
  const health = params.get("health") || undefined;
  if (health !== undefined && !HEALTH_ORDER.includes(health as HealthStatus)) {
    throw new InvalidApplicationQuery(`health: expected one of ${HEALTH_ORDER.join(", ")}, got ${JSON.stringify(health)}`);
  }
  const sync = params.get("sync") || undefined;
  if (sync !== undefined && !SYNC_STATUSES.includes(sync as SyncStatus)) {
    throw new InvalidApplicationQuery(`sync: expected one of ${SYNC_STATUSES.join(", ")}, got ${JSON.stringify(sync)}`);
  }
  const limitText = params.get("limit") || undefined;
  const limit = limitText === undefined ? undefined : Number(limitText);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new InvalidApplicationQuery(`limit: expected a positive whole number, got ${JSON.stringify(limitText)}`);
  const search = params.get("search")?.trim() || undefined;
  const environment = params.get("environment") || undefined;
  const cursor = params.get("continue") || undefined;
  return {
    ...(search !== undefined ? { search } : {}),
    ...(health !== undefined ? { health: health as HealthStatus } : {}),
    ...(sync !== undefined ? { sync: sync as SyncStatus } : {}),
    ...(environment !== undefined ? { environment } : {}),
    ...(limit !== undefined ? { limit: Math.min(limit, MAX_APPLICATION_PAGE) } : {}),
    ...(cursor !== undefined ? { continue: cursor } : {}),
  };
}

/**
 * Filters statuses, sorts them by name and cuts one page. The cursor is a
 * name, not an offset, so applications appearing or leaving between two pages
 * neither repeat nor skip the others.
 */
export function queryApplications(statuses: readonly ApplicationStatus[], environmentOf: (name: string) => string | undefined, query: ApplicationQuery): ApplicationPage {
  const needle = query.search?.toLowerCase();
  const matches: ApplicationStatus[] = [];
  for (const status of statuses) {
    if (query.health && status.health.status !== query.health) continue;
    if (query.sync && status.sync.status !== query.sync) continue;
    if (query.environment && environmentOf(status.name) !== query.environment) continue;
    if (needle && !matchesSearch(status, environmentOf(status.name), needle)) continue;
    matches.push(status);
  }
  matches.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const total = matches.length;
  const start = query.continue === undefined ? 0 : firstAfter(matches, query.continue);
  const page = query.limit === undefined ? matches.slice(start) : matches.slice(start, start + query.limit);
  // Only the page is copied to carry its environment.
  const items = page.map((status): ListedApplication => {
    const environment = environmentOf(status.name);
    return environment === undefined ? status : { ...status, environment };
  });
  const last = items.at(-1);
  return start + items.length < total && last ? { items, total, continue: last.name } : { items, total };
}

/** Index of the first application whose name sorts after `name` (binary search). */
function firstAfter(sorted: readonly ApplicationStatus[], name: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((sorted[mid]?.name ?? "") <= name) low = mid + 1;
    else high = mid;
  }
  return low;
}

function matchesSearch(status: ApplicationStatus, environment: string | undefined, needle: string): boolean {
  const has = (text: string | undefined): boolean => text !== undefined && text.toLowerCase().includes(needle);
  return has(status.name) || has(environment) || has(status.target) || has(status.sync.revision) || (status.lastSync?.versions ?? []).some(has);
}
