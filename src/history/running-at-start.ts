import type { Application } from "../config/application.js";
import type { ApplicationStatus } from "../engine/status.js";
import type { HistoryEventInput, HistoryStore } from "./types.js";

/**
 * What a starting agent records for each application whose applied state
 * (from its records) the ledger does not show running: a SyncFinished with
 * trigger `startup` and reason `FoundRunning`. The agent that applied it died
 * before its event was written; without this, `ferry history --version` would
 * deny a version that runs, and a rollback would reason on a false history.
 */
export async function runningAtStart(
  applications: readonly Application[],
  statusOf: (name: string) => ApplicationStatus | undefined,
  store: Pick<HistoryStore, "deployments">,
  now: Date,
): Promise<HistoryEventInput[]> {
  const found: HistoryEventInput[] = [];
  for (const app of applications) {
    const status = statusOf(app.name);
    const { revision, digest } = status?.sync ?? {};
    if (!status || revision === undefined || digest === undefined) continue;
    const environment = app.spec.environment;
    const [latest] = (await store.deployments({ application: app.name, ...(environment !== undefined ? { environment } : {}), limit: 1 })).items;
    if (latest && latest.to === undefined && latest.digest === digest) continue;
    // The last sync tells the versions and the commit when it is the one that applied this state.
    const last = status.lastSync?.digest === digest ? status.lastSync : undefined;
    found.push({
      type: "SyncFinished",
      at: now.toISOString(),
      application: app.name,
      ...(environment !== undefined ? { environment } : {}),
      target: status.target,
      revision,
      digest,
      versions: [...(last?.versions ?? [])].sort(),
      outcome: "Succeeded",
      reason: "FoundRunning",
      message: "found running at start: the sync that applied it is missing from the history",
      trigger: "startup",
      ...(last?.commit ? { author: last.commit.author, subject: last.commit.subject } : {}),
      changed: true,
    });
  }
  return found;
}
