import type { Problem } from "../core/errors.js";
import type { DiffView } from "../diff/format-diff.js";
import type { EngineEvent } from "../engine/events.js";
import type { ApplicationStatus } from "../engine/status.js";
import type { Deployment, HistoryEntry, Hold, Page } from "../history/types.js";
import type { ConfigStatus } from "./agent.js";
import type { RevisionDiffReport } from "./revision-diff.js";
import type { RollbackResult } from "./rollback.js";

/** The typed contract between the agent's control API and its clients (CLI, dashboard). */

/** GET /api/v1/applications */
export interface ApplicationList {
  readonly config: ConfigStatus;
  readonly applications: readonly ApplicationStatus[];
}


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
