import type { HoldStatus } from "../engine/status.js";
import type { Hold, HistoryStore } from "../history/types.js";

/**
 * The holds of a history store as status shows them: why, since when, who
 * rolled back (the author of the rollback's entry) and the command that lifts
 * them. Who is looked up once per hold: `known` (the last answer) is reused
 * for holds that did not change.
 */
export async function holdStatuses(store: HistoryStore, known: ReadonlyMap<string, HoldStatus> = new Map()): Promise<{ holds: Hold[]; statuses: Map<string, HoldStatus> }> {
  const holds = await store.holds();
  const statuses = new Map<string, HoldStatus>();
  for (const hold of holds) {
    const before = known.get(hold.application);
    const by = before?.since === hold.since ? before.by : hold.eventId !== undefined ? (await store.event(hold.eventId))?.author : undefined;
    statuses.set(hold.application, { reason: hold.reason, since: hold.since, ...(by !== undefined ? { by } : {}), release: `ferry release ${hold.application}` });
  }
  return { holds, statuses };
}
