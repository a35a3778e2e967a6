import { findCondition, removeCondition, setCondition } from "../core/conditions.js";
import type { FerryError } from "../core/errors.js";
import type { ResourceKey } from "../core/ids.js";
import type { Application } from "../config/application.js";
import { targetKey } from "../config/target-key.js";
import type { SourceRefusal } from "../source/artifact.js";
import type { Target } from "../targets/target.js";
import type { AppRecord, RecordStore } from "./app-record.js";
import type { EventBus } from "./events.js";
import type { Suspension } from "./status.js";
import { describeSuspension } from "./status.js";

/**
 * The record of an application that did not run: suspended, or waiting for a
 * dependency. Ready is False with the reason; nothing else changes.
 */
export function waitingStatus(record: AppRecord, app: Application, reason: string, message: string, now: Date, suspended: boolean): AppRecord {
  let conditions = setCondition(record.status.conditions, { type: "Ready", status: "False", reason, message }, now);
  conditions = removeCondition(removeCondition(conditions, "Reconciling"), "Stalled");
  return { ...record, status: { ...record.status, target: targetKey(app.spec), conditions, suspended } };
}

/**
 * The record as a runtime suspension shows it: `suspended` and who/when, and
 * Ready's reason `Suspended` with the suspension before what the run found
 * (drift, a revision held back), unless the run stalled on bad input. Without
 * a suspension, what an earlier one left is cleared.
 */
export function withSuspension(record: AppRecord, suspension: Suspension | undefined, now: Date): AppRecord {
  const { suspension: previous, ...rest } = record.status;
  let conditions = record.status.conditions;
  const ready = findCondition(conditions, "Ready");
  if (!suspension) {
    if (!previous) return record;
    // A run that found nothing new keeps Ready's message: drop what the suspension added to it.
    const said = `${describeSuspension(previous)}; `;
    if (ready?.message.startsWith(said)) {
      conditions = setCondition(conditions, { ...ready, reason: ready.reason === "Suspended" ? "Succeeded" : ready.reason, message: ready.message.slice(said.length) }, now);
    }
    return { ...record, status: { ...rest, conditions, suspended: false } };
  }
  if (ready && findCondition(conditions, "Stalled")?.status !== "True") {
    const said = describeSuspension(suspension);
    const message = ready.message.startsWith(said) ? ready.message : `${said}; ${ready.message}`;
    conditions = setCondition(conditions, { type: "Ready", status: ready.status, reason: "Suspended", message }, now);
  }
  return { ...record, status: { ...rest, conditions, suspended: true, suspension } };
}

/**
 * The record of a run that failed for a reason of the moment (a conflict, a
 * timeout, a refusal that may be lifted): Ready's message says that the run
 * is retried, in how long and how many attempts failed so far, and
 * `nextRetryAt` says when.
 */
export function withRetry(record: AppRecord, delayMs: number, attempt: number, now: Date): AppRecord {
  const ready = findCondition(record.status.conditions, "Ready");
  if (!ready || ready.status === "True") return record;
  const base = ready.message.replace(/; retrying in \d+s \(attempt \d+\)$/, "");
  const message = `${base}; retrying in ${Math.max(1, Math.round(delayMs / 1000))}s (attempt ${attempt})`;
  const conditions = setCondition(record.status.conditions, { ...ready, message }, now);
  return { ...record, status: { ...record.status, conditions, nextRetryAt: new Date(now.getTime() + delayMs).toISOString() } };
}

/** The record without a retry due. */
export function withoutRetry(record: AppRecord): AppRecord {
  if (record.status.nextRetryAt === undefined) return record;
  const { nextRetryAt: _due, ...status } = record.status;
  return { ...record, status };
}

/** The record after an error outside the stages (unknown target, source unreachable). */
export function erroredStatus(record: AppRecord, app: Application, error: FerryError, now: Date): AppRecord {
  let conditions = setCondition(record.status.conditions, { type: "Ready", status: "False", reason: error.reason, message: error.message }, now);
  conditions = removeCondition(conditions, "Reconciling");
  conditions =
    error.disposition === "stalled"
      ? setCondition(conditions, { type: "Stalled", status: "True", reason: error.reason, message: error.message }, now)
      : removeCondition(conditions, "Stalled");
  return { ...record, status: { ...record.status, target: targetKey(app.spec), conditions, problems: error.problems } };
}

/**
 * The record after a run of the last accepted revision while the source's
 * newest revision is refused: whatever that run did (self-heal included)
 * stands, but the application is Stalled on the refused revision and says why.
 */
export function refusedRecord(record: AppRecord, refusal: SourceRefusal, now: Date): AppRecord {
  const { reason, message } = refusal.error;
  let conditions = setCondition(record.status.conditions, { type: "Ready", status: "False", reason, message }, now);
  conditions = removeCondition(conditions, "Reconciling");
  conditions = setCondition(conditions, { type: "Stalled", status: "True", reason, message }, now);
  const sync = { ...record.status.sync, status: "OutOfSync" as const };
  return { ...record, status: { ...record.status, conditions, sync, lastAttemptedRevision: refusal.revision, problems: refusal.error.problems } };
}

/**
 * Ends a run: saves the record when it changed (an unchanged run writes
 * nothing), tells listeners, and says whether the application just became Ready.
 */
export async function finishRun(previous: AppRecord, next: AppRecord, store: RecordStore, bus: EventBus): Promise<{ becameReady: boolean }> {
  const wasReady = findCondition(previous.status.conditions, "Ready")?.status === "True";
  const isReady = findCondition(next.status.conditions, "Ready")?.status === "True";
  if (JSON.stringify(previous) !== JSON.stringify(next)) {
    // Saved before the status is told: what a reader sees reported is on disk (the inventory above all).
    await store.save(next).catch((error: unknown) => console.error(`cannot save the record of ${next.name}: ${(error as Error).message}`));
    bus.emit({ type: "StatusChanged", application: next.name, status: next.status });
  }
  return { becameReady: isReady && !wasReady };
}

/**
 * An application left Git: when its policy prunes, its objects go too (a
 * failed delete keeps the record so the next run tries again); otherwise they
 * are orphaned and left running.
 */
export async function removeApplication(record: AppRecord, target: Target | undefined, store: RecordStore, bus: EventBus): Promise<void> {
  const pruned: ResourceKey[] = [];
  if (record.prune && target) {
    const failed: string[] = [];
    // What the target says the application owns counts too: an inventory saved short by a killed agent prunes it all the same.
    const known = new Set(record.status.inventory.map((e) => e.key));
    const owned = ((await target.owned?.(record.name)) ?? []).filter((key) => !known.has(key)).map((key) => ({ key, annotations: undefined }));
    for (const { key, annotations } of [...record.status.inventory, ...owned].reverse()) {
      if (annotations?.["ferry.dev/prune"] === "disabled") continue;
      try {
        // Adopted objects are released, not deleted: without the application's settings, nobody told Ferry to delete them.
        if ((await target.delete(key, { application: record.name })) !== "kept") pruned.push(key);
      } catch (error) {
        failed.push(`${key}: ${(error as Error).message}`);
      }
    }
    if (failed.length > 0) {
      const inventory = record.status.inventory.filter((e) => !pruned.includes(e.key));
      await store.save({ ...record, status: { ...record.status, inventory } });
      throw new Error(`removing application ${record.name} failed to delete: ${failed.join("; ")}`);
    }
  }
  await store.remove(record.name);
  bus.emit({ type: "ApplicationRemoved", application: record.name, pruned });
}
