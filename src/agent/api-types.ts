import type { Problem } from "../core/errors.js";
import type { DiffView } from "../diff/format-diff.js";
import type { EngineEvent } from "../engine/events.js";
import type { ApplicationStatus, Suspension } from "../engine/status.js";
import type { Deployment, HistoryEntry, Hold, Page } from "../history/types.js";
import type { ConfigStatus } from "./agent.js";
import type { ListedApplication } from "./application-query.js";
import type { RevisionDiffReport } from "./revision-diff.js";
import type { RollbackResult } from "./rollback.js";
import type { PipelineView } from "../promote/pipeline-view.js";
import type { PromotionRecord } from "../promote/promotion-state.js";

/** The typed contract between the agent's control API and its clients (CLI, dashboard). */

/**
 * The configuration's status as a list gives it: the names of every
 * configured application only in an unpaged list (without `limit`); a page
 * leaves them out, since they grow with the configuration, not with the page.
 */
export type ListedConfigStatus = Omit<ConfigStatus, "applications"> & { readonly applications?: ConfigStatus["applications"] };

/**
 * GET /api/v1/applications?search=&health=&sync=&environment=&limit=&continue=
 * Sorted by name. Without `limit`, every match (one page); with it, `continue`
 * is the cursor of the next page while there is one.
 */
export interface ApplicationList {
  readonly config: ListedConfigStatus;
  readonly applications: readonly ListedApplication[];
  /** How many applications match the filters, over all pages. */
  readonly total: number;
  readonly continue?: string;
}

/** GET /api/v1/session: what the token in use may do. */
export interface SessionResponse {
  readonly scope: "admin" | "read";
}

/** GET /api/v1/applications/:name: the status, with the environment the application deploys to. */
export type ApplicationResponse = ListedApplication;

/** GET /api/v1/applications/:name/diff */
export type DiffResponse = { readonly diffs: readonly DiffView[] } | { readonly error: string; readonly reason: string; readonly problems: readonly Problem[] };

/** GET /api/v1/diff?revision=<commit, prefix, branch or tag> (every application) and GET /api/v1/applications/:name/diff?revision= (one) */
export type RevisionDiffResponse = RevisionDiffReport;

/** One line of POST /api/v1/applications/:name/sync (newline-delimited JSON). */
export type SyncStreamLine = EngineEvent | { readonly type: "Result"; readonly status: ApplicationStatus };

/** GET /api/v1/history?application=&environment=&version=&outcome=&type=&revision=&since=&until=&limit=&before= */
export type HistoryResponse = Page<HistoryEntry>;

/** GET /api/v1/deployments?application=&environment=&version=&revision=&at=&limit=&before= */
export type DeploymentsResponse = Page<Deployment>;

/**
 * GET /api/v1/events?application=&type=: a server-sent event stream, one `event: <type>` with its
 * JSON `data:` per engine event; `application` (repeated or comma-separated) keeps only those
 * applications' events, `type` (comma-separated) only those types.
 */
export type EventStreamMessage = EngineEvent;

/** GET /api/v1/holds */
export interface HoldsResponse {
  readonly holds: readonly Hold[];
}

/** POST /api/v1/applications/:name/rollback with a RollbackRequest body */
export type RollbackResponse = RollbackResult;

/** POST /api/v1/applications/:name/release */
export interface ReleaseResponse {
  readonly released: boolean;
}

/** GET /api/v1/pipelines: every pipeline with its environments, versions and gates. */
export interface PipelinesResponse {
  readonly pipelines: readonly PipelineView[];
}

/** GET /api/v1/pipelines/:name (404 for an unknown pipeline) */
export type PipelineResponse = PipelineView;

/** POST /api/v1/pipelines/:pipeline-or-application/promote with `{to, version?, set?, by?}` */
export interface PromoteBody {
  readonly to: string;
  readonly version?: string;
  /** Other marked values to write with the version into the first environment (url, digest). */
  readonly set?: Readonly<Record<string, string>>;
  /** Who asks, for the history. */
  readonly by?: string;
}

/** POST /api/v1/pipelines/:name/approve with `{environment, by?}` */
export interface ApproveBody {
  readonly environment: string;
  readonly by?: string;
}

/** What promote and approve answer: the promotion as it stands after the request. */
export type PromotionResponse = PromotionRecord;

/**
 * POST /api/v1/applications/:name/suspend with `{ "by"?: string, "reason"?: string }` (admin):
 * the suspension in force (an application already suspended keeps its first one).
 * A sync of a suspended application is refused with 409.
 */
export interface SuspendResponse {
  readonly suspension: Suspension;
}

/** POST /api/v1/applications/:name/resume with `{ "by"?: string }` (admin): false when it was not suspended. */
export interface ResumeResponse {
  readonly resumed: boolean;
}

/**
 * 202 answer of POST /hooks/<provider> for a verified push: the sources checked
 * (`<repository> <ref>`) and the applications that run at the new revision
 * (only those whose directories hold a changed file, when the push lists its files).
 */
/** What `/hooks/registry` answers: the pipelines whose watcher checks now (none when nothing watches what was pushed). */
export interface RegistryWebhookResponse {
  readonly pipelines: readonly string[];
}

export interface WebhookResponse {
  readonly refreshed: readonly string[];
  readonly applications: readonly string[];
}
