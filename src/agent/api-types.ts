import type { Problem } from "../core/errors.js";
import type { DiffView } from "../diff/format-diff.js";
import type { EngineEvent } from "../engine/events.js";
import type { ApplicationStatus } from "../engine/status.js";
import type { ConfigStatus } from "./agent.js";

/** The typed contract between the agent's control API and its clients (CLI, dashboard). */

/** GET /api/v1/applications */
export interface ApplicationList {
  readonly config: ConfigStatus;
  readonly applications: readonly ApplicationStatus[];
}


/** GET /api/v1/applications/:name/diff */
export type DiffResponse = { readonly diffs: readonly DiffView[] } | { readonly error: string; readonly reason: string; readonly problems: readonly Problem[] };

/** One line of POST /api/v1/applications/:name/sync (newline-delimited JSON). */
export type SyncStreamLine = EngineEvent | { readonly type: "Result"; readonly status: ApplicationStatus };
