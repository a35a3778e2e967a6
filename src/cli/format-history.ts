import type { RollbackResult } from "../agent/rollback.js";
import { shortRevision } from "../core/ids.js";
import type { Deployment, HistoryEntry, Page } from "../history/types.js";
import { table } from "./format.js";
import { count } from "../core/text.js";

const MESSAGE_WIDTH = 80;

/** Events newest first: ID, TIME, APP, ENV, EVENT, REVISION, VERSION, OUTCOME, BY, MESSAGE; wide: full revisions and messages. */
export function formatHistory(page: Page<HistoryEntry>, more: (next: number) => string, options: { readonly wide?: boolean } = {}): string {
  if (page.items.length === 0) return "no history entries match";
  const clip = options.wide ? (text: string): string => text : clipped;
  const rev = options.wide ? (r: string): string => r : shortRevision;
  const rows = page.items.map((e) => [
    `#${e.id}`,
    e.at.replace(/\.\d{3}Z$/, "Z"),
    e.application ?? "-",
    e.environment ?? "-",
    e.type,
    e.revision ? rev(e.revision) : "-",
    e.versions?.join(",") ?? "-",
    e.outcome ?? "",
    e.author ?? "",
    clip(summary(e)),
  ]);
  const text = table(["ID", "TIME", "APP", "ENV", "EVENT", "REVISION", "VERSION", "OUTCOME", "BY", "MESSAGE"], rows);
  return page.next === undefined ? text : `${text}\nmore: ${more(page.next)}`;
}

/** Deployments: APP, ENV, VERSION, REVISION, FROM, TO, BY, COMMIT; wide: full revisions and commit subjects. */
export function formatDeployments(page: Page<Deployment>, heading: string, more: (next: number) => string, options: { readonly wide?: boolean } = {}): string {
  if (page.items.length === 0) return `${heading}: none`;
  const clip = options.wide ? (text: string): string => text : clipped;
  const rev = options.wide ? (r: string): string => r : shortRevision;
  const rows = page.items.map((d) => [
    d.application,
    d.environment ?? "-",
    d.versions.join(",") || "-",
    rev(d.revision),
    d.from.replace(/\.\d{3}Z$/, "Z"),
    d.to ? d.to.replace(/\.\d{3}Z$/, "Z") : "now",
    d.author ?? "",
    clip(`${d.subject ?? ""}${d.rollbackId !== undefined ? ` (rollback #${d.rollbackId})` : ""}${d.outcome === "Failed" ? " [sync failed]" : ""}`),
  ]);
  const text = `${heading}:\n${table(["APP", "ENV", "VERSION", "REVISION", "FROM", "TO", "BY", "COMMIT"], rows)}`;
  return page.next === undefined ? text : `${text}\nmore: ${more(page.next)}`;
}

/** What `ferry rollback` did, for people. */
export function formatRollback(result: RollbackResult): string {
  const describe = (d: Deployment): string => `${d.versions.join(", ") || "-"} (${shortRevision(d.revision)})`;
  return [
    `rolled back ${result.application}: ${describe(result.from)} -> ${describe(result.to)}`,
    `commit ${shortRevision(result.commit)} pushed to ${result.repository} ${result.ref}${result.attempts > 1 ? ` after ${result.attempts} attempts` : ""}: ${count(result.files.length, "file")} changed`,
    `${result.application} is on hold: automatic promotion leaves it alone until: ferry release ${result.application}`,
  ].join("\n");
}

function summary(e: HistoryEntry): string {
  if (e.type === "SyncFinished" || e.type === "SyncStarted") {
    const subject = e.subject ? `"${e.subject}"` : "";
    const trigger = e.trigger ? `(${e.trigger})` : "";
    const related = e.relatedId !== undefined ? `rollback #${e.relatedId}` : "";
    return [subject, trigger, related, e.outcome === "Failed" ? (e.message ?? "") : ""].filter(Boolean).join(" ");
  }
  if (e.type === "Rollback") return `${e.subject ?? ""}${e.relatedId !== undefined ? ` (undoes #${e.relatedId})` : ""}${e.message ? `: ${e.message}` : ""}`;
  return e.message ?? "";
}

function clipped(text: string): string {
  return text.length > MESSAGE_WIDTH ? `${text.slice(0, MESSAGE_WIDTH - 1)}…` : text;
}
