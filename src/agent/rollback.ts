import { stalled } from "../core/errors.js";
import { shortRevision } from "../core/ids.js";
import type { Application } from "../config/application.js";
import type { Deployment, HistoryEntry, HistoryEventInput, HistoryStore } from "../history/types.js";
import type { CommitIdentity, CommitSigningSettings, RestoreResult } from "../source/git-writer.js";
import { restoreDirectory } from "../source/git-writer.js";

/** What `ferry rollback` asks for. */
export interface RollbackRequest {
  /** A revision (or its prefix) that ran before, or the id of a history entry of its sync; default the deployment before the current one. */
  readonly to?: string;
  readonly reason?: string;
  /** Who asks: the rollback commit is written as them. */
  readonly author?: CommitIdentity;
}

/** What a rollback did. */
export interface RollbackResult {
  readonly application: string;
  /** The deployment that was running and is undone. */
  readonly from: Deployment;
  /** The deployment whose content is restored. */
  readonly to: Deployment;
  /** The rollback commit, pushed to the application's branch. */
  readonly commit: string;
  readonly repository: string;
  readonly ref: string;
  readonly files: readonly string[];
  readonly attempts: number;
  /** The history entry of the rollback. */
  readonly event: HistoryEventInput;
}

/** Everything a rollback needs, gathered by the agent. */
export interface RollbackInput {
  readonly application: Application;
  readonly store: HistoryStore;
  /** The application's repository and branch. */
  readonly url: string;
  readonly ref: string;
  /** Where working clones live. */
  readonly workDir: string;
  readonly request: RollbackRequest;
  readonly now: Date;
  /** Signs the rollback commit (an agent that verifies signatures must). */
  readonly signing?: CommitSigningSettings;
}

const FALLBACK_AUTHOR: CommitIdentity = { name: "Ferry", email: "ferry@localhost" };

/**
 * Rolls an application back by writing Git: the application's directory is
 * restored to its content at an earlier deployment and committed on its
 * branch, with a message that says what and why. The agent then syncs that
 * commit like any other. Nothing is written when the request is wrong.
 */
export async function rollbackApplication(input: RollbackInput): Promise<RollbackResult> {
  const { application: app, store } = input;
  const environment = app.spec.environment ?? "";
  const current = (await store.deployments({ application: app.name, environment, limit: 1 })).items.find((d) => d.to === undefined);
  if (!current) throw stalled("NothingToRollBack", `${app.name} has no running deployment in the history at ${store.location}: nothing to roll back`);
  const target = await rollbackTarget(input, current);
  if (target.digest === current.digest) {
    throw stalled("AlreadyRunning", `${app.name} already runs the content of ${shortRevision(target.revision)} (${describe(current)})`);
  }
  const author = input.request.author ?? FALLBACK_AUTHOR;
  const message = rollbackMessage(app, current, target, input.request.reason);
  const restored: RestoreResult = await restoreDirectory({
    url: input.url,
    ref: input.ref,
    path: app.spec.source.path,
    revision: target.revision,
    message,
    author,
    workDir: input.workDir,
    ...(input.signing ? { signing: input.signing } : {}),
  });
  const event: HistoryEventInput = {
    type: "Rollback",
    at: input.now.toISOString(),
    application: app.name,
    ...(app.spec.environment !== undefined ? { environment: app.spec.environment } : {}),
    target: app.spec.target,
    revision: restored.commit,
    versions: target.versions,
    author: author.name,
    subject: message.split("\n")[0] ?? "",
    message: input.request.reason ?? "",
    relatedId: current.eventId,
    details: {
      from: { revision: current.revision, versions: current.versions, eventId: current.eventId },
      to: { revision: target.revision, versions: target.versions, eventId: target.eventId },
      files: restored.changedFiles,
      ...(input.request.reason ? { reason: input.request.reason } : {}),
    },
  };
  return {
    application: app.name,
    from: current,
    to: target,
    commit: restored.commit,
    repository: input.url,
    ref: input.ref,
    files: restored.changedFiles,
    attempts: restored.attempts,
    event,
  };
}

/** The deployment to go back to: the one asked for, or the last good one before the current. */
async function rollbackTarget(input: RollbackInput, current: Deployment): Promise<Deployment> {
  const { application: app, store } = input;
  const environment = app.spec.environment ?? "";
  const to = input.request.to?.trim();
  if (to === undefined || to === "") {
    let before: number | undefined = current.id;
    for (;;) {
      const page = await store.deployments({ application: app.name, environment, before, limit: 100 });
      const found = page.items.find((d) => d.digest !== current.digest && d.outcome === "Succeeded");
      if (found) return found;
      if (page.next === undefined) break;
      before = page.next;
    }
    throw stalled("NothingToRollBack", `${app.name} has no earlier good deployment than ${describe(current)} to roll back to`);
  }
  const entryId = /^#?(\d{1,15})$/.exec(to);
  if (entryId && !/^[0-9a-f]{7,}$/.test(to)) return deploymentOfEntry(input, Number(entryId[1]));
  if (!/^[0-9a-f]{4,64}$/.test(to)) {
    throw stalled("InvalidRollbackTarget", `--to ${JSON.stringify(to)} is neither a revision (4 to 64 hex digits) nor a history entry id (#123)`);
  }
  const matches = (await store.deployments({ application: app.name, environment, revision: to, limit: 100 })).items;
  const revisions = [...new Set(matches.map((d) => d.revision))];
  if (revisions.length > 1) throw stalled("AmbiguousRevision", `revision ${to} is ambiguous for ${app.name}: ${revisions.map(shortRevision).join(", ")}`);
  const found = matches[0];
  if (!found) throw stalled("NeverSynced", `revision ${to} never ran for ${app.name}${environment ? ` in ${environment}` : ""}: the history has no deployment of it`);
  return found;
}

async function deploymentOfEntry(input: RollbackInput, id: number): Promise<Deployment> {
  const { application: app, store } = input;
  const entry: HistoryEntry | undefined = await store.event(id);
  if (!entry) throw stalled("UnknownHistoryEntry", `history entry #${id} does not exist`);
  if (entry.application !== app.name) throw stalled("InvalidRollbackTarget", `history entry #${id} is about ${entry.application ?? "no application"}, not ${app.name}`);
  const deployment = (await store.deployments({ application: app.name, environment: app.spec.environment ?? "", revision: entry.revision ?? "-", limit: 100 })).items.find(
    (d) => d.eventId === id || d.revision === entry.revision,
  );
  if (!deployment || entry.type !== "SyncFinished") {
    throw stalled("NeverSynced", `history entry #${id} (${entry.type}) is not a sync that changed ${app.name}: pick one from ferry history ${app.name} --type SyncFinished`);
  }
  return deployment;
}

/** The rollback commit's message: what, from what, to what, and why, with trailers for tools. */
export function rollbackMessage(app: Application, from: Deployment, to: Deployment, reason?: string): string {
  const where = app.spec.environment ? ` in ${app.spec.environment}` : "";
  return [
    `Roll back ${app.name}${where} to ${describe(to)}`,
    "",
    `Restores ${app.spec.source.path} to its content at ${shortRevision(to.revision)}, which ran from ${to.from}${to.to ? ` to ${to.to}` : ""},`,
    `undoing ${describe(from)}${from.author ? ` by ${from.author}` : ""}${from.subject ? ` ("${from.subject}")` : ""}.`,
    ...(reason ? ["", `Reason: ${reason}`] : []),
    "",
    `Ferry-Rollback-Of: ${from.revision}`,
    `Ferry-Rollback-To: ${to.revision}`,
    "",
  ].join("\n");
}

/** `1.4.2 (a1b2c3d4)`, or the short revision alone when no version is known. */
function describe(d: Deployment): string {
  return d.versions.length > 0 ? `${d.versions.join(", ")} (${shortRevision(d.revision)})` : shortRevision(d.revision);
}
