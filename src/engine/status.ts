import type { Condition } from "../core/conditions.js";
import type { Problem } from "../core/errors.js";
import type { Health } from "../core/health.js";
import type { Digest, ResourceKey, Revision } from "../core/ids.js";
import type { FieldDifference } from "../diff/diff-objects.js";
import type { CommitInfo } from "../source/artifact.js";
import { count } from "../core/text.js";

/** What one sync did to each object. */
export interface ChangeSet {
  readonly created: readonly ResourceKey[];
  readonly configured: readonly ResourceKey[];
  readonly unchanged: readonly ResourceKey[];
  readonly deleted: readonly ResourceKey[];
  /** Objects that existed before and were taken over by this sync (also listed as configured). */
  readonly adopted?: readonly ResourceKey[];
  /** Adopted objects that left Git and were left in place, no longer managed, instead of being deleted. */
  readonly released?: readonly ResourceKey[];
  /** Objects whose apply or delete failed, with the error message. */
  readonly failed: readonly { readonly key: ResourceKey; readonly message: string }[];
}

/** An object whose live state differs from Git at the revision already applied. */
export interface DriftedObject {
  readonly key: ResourceKey;
  readonly differences: readonly FieldDifference[];
}

/** One object the application owns, with its health. */
export interface InventoryEntry {
  readonly key: ResourceKey;
  readonly health: Health;
  /** Ferry's own annotations (`ferry.dev/...`) as last applied, so a prune opt-out survives the object leaving Git; no other annotation is kept. */
  readonly annotations?: Readonly<Record<string, string>>;
}

/** What set a reconcile off. */
export type Trigger = "startup" | "interval" | "revision" | "refresh" | "manual" | "dependency" | "drift" | "config" | "retry";

/** The last sync attempt, for status and history. */
export interface SyncSummary {
  readonly revision: Revision;
  readonly digest?: Digest;
  readonly commit?: CommitInfo;
  /** Artifact versions the rendered objects run. */
  readonly versions?: readonly string[];
  readonly trigger: Trigger;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly outcome: "Succeeded" | "Failed";
  readonly reason: string;
  readonly message: string;
  readonly changeSet: ChangeSet;
}

/**
 * The status of one application, Kubernetes style: conditions plus the synced
 * revision, health, drift and inventory.
 */
export interface ApplicationStatus {
  readonly name: string;
  readonly target: string;
  readonly conditions: readonly Condition[];
  /** `Synced` when live matches Git at `revision`. */
  readonly sync: { readonly status: "Synced" | "OutOfSync" | "Unknown"; readonly revision?: Revision; readonly digest?: Digest };
  /** The newest revision seen for the application's source. */
  readonly lastAttemptedRevision?: Revision;
  readonly health: Health;
  readonly drift: readonly DriftedObject[];
  readonly inventory: readonly InventoryEntry[];
  readonly lastSync?: SyncSummary;
  /** Input problems that stalled the last attempt (file, line, field). */
  readonly problems: readonly Problem[];
  readonly suspended: boolean;
  /** Who suspended the application at runtime (`ferry suspend`), when and why; absent when not suspended that way. */
  readonly suspension?: Suspension;
  /**
   * What the last full run read from the repository: how many paths, and the
   * newest revision known to change none of them. `untracked` says why every
   * new revision runs the application again (its render may read more than
   * it names). Absent until a run rendered.
   */
  readonly inputs?: { readonly revision: Revision; readonly paths: number; readonly untracked?: string };
  /** The hold a rollback put on it: automatic promotion leaves it alone until released. Set by the agent. */
  readonly hold?: HoldStatus;
  /** A promotion step of a pipeline waiting on a person here (approval, `ferry promote`), or held. Set by the agent. */
  readonly promotion?: PromotionWait;
  /** When the run that failed for a reason of the moment is tried again (ISO 8601); absent when no retry is due. */
  readonly nextRetryAt?: string;
}

/** A hold as status shows it: why, since when, who, and how to lift it. */
export interface HoldStatus {
  readonly reason: string;
  /** ISO 8601. */
  readonly since: string;
  /** Who rolled back, as the rollback commit's author. */
  readonly by?: string;
  /** The command that ends it: `ferry release <app>`. */
  readonly release: string;
}

/** What a pipeline's promotion waits for in this application's environment. */
export interface PromotionWait {
  readonly pipeline: string;
  readonly environment: string;
  readonly version: string;
  readonly phase: "AwaitingApproval" | "AwaitingPromotion" | "Held";
  /** What to run: `waiting for approval: ferry approve web --env prd`. */
  readonly message: string;
  readonly since: string;
}

/** `on hold since <at> by <who>: <reason> (ferry release web)` */
export function describeHold(hold: HoldStatus): string {
  return `on hold since ${hold.since}${hold.by ? ` by ${hold.by}` : ""}: ${hold.reason} (${hold.release})`;
}

/**
 * A suspension set at runtime (`ferry suspend`, the API): an override kept by
 * the agent, not in Git. A suspended application is neither synced nor
 * self-healed; drift is still read and reported.
 */
export interface Suspension {
  /** Who asked for it (a login or a name given to the API). */
  readonly by: string;
  /** When, ISO 8601. */
  readonly at: string;
  readonly reason?: string;
}

/** `suspended by alice at 2026-11-23T13:00:00.000Z: freeze for the audit` */
export function describeSuspension(suspension: Suspension): string {
  return `suspended by ${suspension.by} at ${suspension.at}${suspension.reason ? `: ${suspension.reason}` : ""}`;
}

/** The status of an application never reconciled. */
export function initialStatus(name: string, target: string): ApplicationStatus {
  return {
    name,
    target,
    conditions: [{ type: "Ready", status: "Unknown", reason: "Pending", message: "not reconciled yet", lastTransitionTime: new Date(0).toISOString() }],
    sync: { status: "Unknown" },
    health: { status: "Unknown", message: "not reconciled yet" },
    drift: [],
    inventory: [],
    problems: [],
    suspended: false,
  };
}

/** An empty change set. */
export const EMPTY_CHANGE_SET: ChangeSet = { created: [], configured: [], unchanged: [], deleted: [], failed: [] };

/** `2 created, 1 configured, 3 unchanged`: the non-empty parts of a change set. */
export function summarizeChangeSet(changeSet: ChangeSet): string {
  const parts = (["created", "configured", "adopted", "deleted", "released", "unchanged"] as const)
    .filter((k) => (changeSet[k]?.length ?? 0) > 0)
    .map((k) => `${changeSet[k]?.length ?? 0} ${k}`);
  if (changeSet.failed.length > 0) parts.push(`${changeSet.failed.length} failed`);
  return parts.length > 0 ? parts.join(", ") : "nothing to do";
}

/** `1 object differs from Git`, `3 objects differ from Git`. */
export function describeDrift(objects: number): string {
  return `${count(objects, "object")} ${objects === 1 ? "differs" : "differ"} from Git`;
}
