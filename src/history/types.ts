/**
 * The history: an append-only ledger of what Ferry did (syncs, drift,
 * rollbacks, holds), and the deployments derived from it (which version ran
 * in which environment, from when to when). Plain data, no I/O.
 */

/** What kind of event a history entry records. */
export type HistoryEventType =
  | "SyncStarted"
  | "SyncFinished"
  | "DriftDetected"
  | "DriftCorrected"
  | "Rollback"
  | "Hold"
  | "Release"
  | "Suspend"
  | "Resume"
  | "ConfigRejected"
  | "RevisionRefused"
  | "ApplicationRemoved"
  | "Promotion"
  | "PromotionGate"
  | "Approval";

/** Every event type, in the order people read them in help texts. */
export const HISTORY_EVENT_TYPES: readonly HistoryEventType[] = [
  "SyncStarted",
  "SyncFinished",
  "DriftDetected",
  "DriftCorrected",
  "Rollback",
  "Hold",
  "Release",
  "Suspend",
  "Resume",
  "ConfigRejected",
  "RevisionRefused",
  "ApplicationRemoved",
  "Promotion",
  "PromotionGate",
  "Approval",
];

/**
 * One event as it is appended. Only names, revisions, digests, versions and
 * field paths go in: never a value of a field (values can be secrets).
 */
export interface HistoryEventInput {
  readonly type: HistoryEventType;
  /** When it happened, ISO 8601. */
  readonly at: string;
  readonly application?: string;
  readonly environment?: string;
  readonly target?: string;
  /** The Git revision the event is about (for a rollback: the rollback commit). */
  readonly revision?: string;
  /** Digest of the rendered output at that revision. */
  readonly digest?: string;
  /** Artifact versions found in the rendered objects, sorted. */
  readonly versions?: readonly string[];
  readonly outcome?: "Succeeded" | "Failed";
  readonly reason?: string;
  readonly message?: string;
  /** What set it off: interval, revision, manual, drift, ... */
  readonly trigger?: string;
  /** Author of the commit (or the person who asked for a rollback). */
  readonly author?: string;
  /** Subject of the commit. */
  readonly subject?: string;
  readonly durationMs?: number;
  /** Structured facts: change set, drifted objects and field paths, rollback ends. */
  readonly details?: Readonly<Record<string, unknown>>;
  /** Another entry this one is about (a rollback names the sync it undid). */
  readonly relatedId?: number;
  /**
   * For SyncFinished: whether the sync changed anything on the target. Only
   * such a sync starts a new deployment.
   */
  readonly changed?: boolean;
}

/** One stored event. */
export interface HistoryEntry extends HistoryEventInput {
  readonly id: number;
  /** The agent that recorded it (several agents can share one store). */
  readonly agent: string;
}

/**
 * One stretch of time during which an application ran one rendered state
 * (revision, digest, versions) in one environment.
 */
export interface Deployment {
  readonly id: number;
  readonly application: string;
  readonly environment?: string;
  readonly target?: string;
  readonly revision: string;
  readonly digest: string;
  readonly versions: readonly string[];
  /** When the sync that applied it finished. */
  readonly from: string;
  /** When the next deployment replaced it, or the application left; absent while it runs. */
  readonly to?: string;
  readonly author?: string;
  readonly subject?: string;
  readonly outcome?: "Succeeded" | "Failed";
  /** The SyncFinished entry that started it. */
  readonly eventId: number;
  /** The Rollback entry whose commit this deployment is, when it is one. */
  readonly rollbackId?: number;
  readonly agent: string;
}

/** A hold stops automatic promotion for an application until it is released. */
export interface Hold {
  readonly application: string;
  readonly reason: string;
  readonly since: string;
  readonly eventId?: number;
  /** Who rolled back: the author of the rollback's history entry (the API adds it; the store keeps the entry's id). */
  readonly by?: string;
}

/** Filters of `ferry history`; every field narrows. */
export interface HistoryQuery {
  readonly application?: string;
  readonly environment?: string;
  /** Entries whose versions include this one. */
  readonly version?: string;
  readonly outcome?: "Succeeded" | "Failed";
  readonly types?: readonly HistoryEventType[];
  /** Revision or its prefix. */
  readonly revision?: string;
  readonly since?: Date;
  readonly until?: Date;
  /** Page size (default 50, at most 1000). */
  readonly limit?: number;
  /** Cursor: entries older than this id. */
  readonly before?: number;
}

/** Filters of deployment queries. */
export interface DeploymentQuery {
  readonly application?: string;
  readonly environment?: string;
  readonly version?: string;
  /** Revision or its prefix. */
  readonly revision?: string;
  /** Only deployments that ran at this instant. */
  readonly at?: Date;
  readonly limit?: number;
  /** Cursor: deployments older than this id. */
  readonly before?: number;
}

/** One page of a newest-first listing; `next` is the cursor of the following page. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly next?: number;
}

/** The ledger. Implementations: SQLite (embedded) and PostgreSQL (shared). */
export interface HistoryStore {
  /** Where it is, for messages (credentials masked). */
  readonly location: string;
  /** Appends events in one transaction, in order, and derives deployments; returns their ids. */
  append(events: readonly HistoryEventInput[], agent: string): Promise<number[]>;
  /** Events newest first. */
  events(query: HistoryQuery): Promise<Page<HistoryEntry>>;
  /** One event by id. */
  event(id: number): Promise<HistoryEntry | undefined>;
  /** Deployments newest first. */
  deployments(query: DeploymentQuery): Promise<Page<Deployment>>;
  /** Holds an application (automatic promotion leaves it alone until released). */
  hold(hold: Hold): Promise<void>;
  /** Releases a hold; false when there was none. */
  release(application: string): Promise<boolean>;
  /** Applications on hold. */
  holds(): Promise<Hold[]>;
  /** Deletes events and ended deployments older than `before`; returns how many events went. */
  prune(before: Date): Promise<number>;
  close(): Promise<void>;
}

/** Page size when none is asked for, and the largest allowed. */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

/** Clamps a requested page size. */
export function pageSize(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_PAGE_SIZE;
  return Math.max(1, Math.min(MAX_PAGE_SIZE, Math.floor(limit)));
}
