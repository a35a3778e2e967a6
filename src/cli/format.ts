import type { ConfigStatus } from "../agent/agent.js";
import { findCondition } from "../core/conditions.js";
import { formatProblem } from "../core/errors.js";
import { displayKey, shortRevision } from "../core/ids.js";
import type { EngineEvent } from "../engine/events.js";
import type { ApplicationStatus } from "../engine/status.js";
import { describeHold, summarizeChangeSet } from "../engine/status.js";
import { formatDiffs } from "../diff/format-diff.js";
import { count } from "../core/text.js";

/** A plain text table: columns padded to their widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/**
 * One row per application: READY, SYNC, REVISION, HEALTH, MESSAGE; wide adds
 * TARGET, OBJECTS, LAST SYNC (when it finished and how) and SUSPENDED.
 */
export function formatStatusTable(statuses: readonly ApplicationStatus[], options: { readonly wide?: boolean } = {}): string {
  if (statuses.length === 0) return "no applications";
  const rows = statuses.map((s) => {
    const ready = findCondition(s.conditions, "Ready");
    const reconciling = findCondition(s.conditions, "Reconciling");
    const stalled = findCondition(s.conditions, "Stalled");
    const message = reconciling?.message ?? ready?.message ?? "";
    const wide = options.wide
      ? [s.target, String(s.inventory.length), s.lastSync ? `${s.lastSync.finishedAt} ${s.lastSync.outcome}` : "-", s.suspension ? `by ${s.suspension.by}` : "-"]
      : [];
    return [s.name, ready?.status ?? "Unknown", stalled ? "Stalled" : s.sync.status, s.sync.revision ? shortRevision(s.sync.revision) : "-", s.health.status, ...wide, message];
  });
  const wideHeader = options.wide ? ["TARGET", "OBJECTS", "LAST SYNC", "SUSPENDED"] : [];
  return table(["NAME", "READY", "SYNC", "REVISION", "HEALTH", ...wideHeader, "MESSAGE"], rows);
}

/** One line of an application's state: name, Ready, sync and revision, and the Ready message. */
export function formatStatusLine(s: ApplicationStatus): string {
  const ready = findCondition(s.conditions, "Ready");
  return `${s.name}: ${ready?.status === "True" ? "Ready" : "not Ready"}, ${s.sync.status}${s.sync.revision ? ` at ${shortRevision(s.sync.revision)}` : ""}: ${ready?.message ?? ""}`;
}

/** Everything about one application, for `ferry status <app>`. */
export function formatStatusDetail(s: ApplicationStatus): string {
  const lines: string[] = [`Application: ${s.name}`, `Target:      ${s.target}`];
  lines.push(`Sync:        ${s.sync.status}${s.sync.revision ? ` at ${shortRevision(s.sync.revision)}` : ""}`);
  if (s.lastAttemptedRevision && s.lastAttemptedRevision !== s.sync.revision) lines.push(`Attempted:   ${shortRevision(s.lastAttemptedRevision)}`);
  lines.push(`Health:      ${s.health.status} (${s.health.message})`);
  if (s.inputs) {
    lines.push(
      s.inputs.untracked
        ? `Inputs:      not tracked (${s.inputs.untracked}): every new revision runs it again`
        : `Inputs:      ${s.inputs.paths} repository paths, unchanged up to ${shortRevision(s.inputs.revision)}; a revision that changes none of them does not run it`,
    );
  }
  if (s.suspension) lines.push(`Suspended:   by ${s.suspension.by} at ${s.suspension.at}${s.suspension.reason ? ` (${s.suspension.reason})` : ""}; ferry resume ${s.name} to sync again`);
  if (s.hold) lines.push(`Held:        ${describeHold(s.hold)}`);
  if (s.promotion) lines.push(`Promotion:   ${s.promotion.pipeline} ${s.promotion.version} into ${s.promotion.environment} since ${s.promotion.since}: ${s.promotion.message}`);
  lines.push("Conditions:");
  for (const c of s.conditions) lines.push(`  ${c.type}=${c.status} ${c.reason}: ${c.message}`);
  if (s.problems.length > 0) {
    lines.push("Problems:");
    for (const p of s.problems) lines.push(`  ${formatProblem(p)}`);
  }
  if (s.drift.length > 0) {
    lines.push("Drift:");
    for (const d of s.drift) {
      lines.push(`  ${displayKey(d.key)}: ${d.differences.map((f) => (f.path === "" ? "missing" : f.path)).join(", ")}`);
      for (const f of d.differences) if (f.contentDiff !== undefined) lines.push(...f.contentDiff.split("\n").map((line) => `    ${line}`));
    }
  }
  if (s.lastSync) {
    const c = s.lastSync.commit;
    lines.push(
      `Last sync:   ${s.lastSync.outcome} at ${s.lastSync.finishedAt} (${s.lastSync.trigger}), revision ${shortRevision(s.lastSync.revision)}${c ? ` "${c.subject}" by ${c.author}` : ""}: ${summarizeChangeSet(s.lastSync.changeSet)}`,
    );
  }
  if (s.inventory.length > 0) {
    lines.push("Objects:");
    lines.push(
      table(
        ["  OBJECT", "HEALTH", "MESSAGE"],
        s.inventory.map((e) => [`  ${displayKey(e.key)}`, e.health.status, e.health.message]),
      ),
    );
  }
  return lines.join("\n");
}

/** The configuration's state, when it needs saying (rejected or empty). */
export function formatConfig(config: ConfigStatus): string {
  const lines: string[] = [];
  const where = `${config.repo} (${config.ref}) ${config.path}`;
  if (config.problems.some((p) => p.severity === "error")) {
    const attempted = config.lastAttemptedRevision ? shortRevision(config.lastAttemptedRevision) : "?";
    lines.push(`configuration at ${attempted} was rejected; ${config.revision ? `still using ${shortRevision(config.revision)}` : "no configuration loaded"}:`);
    for (const p of config.problems) lines.push(`  ${formatProblem(p)}`);
  } else if (config.applications.length === 0 && config.revision) {
    lines.push(`no Application documents found in ${where} at ${shortRevision(config.revision)}`);
  }
  return lines.join("\n");
}

/** One line per engine event, for people watching the agent. */
export function formatEvent(event: EngineEvent, now = new Date()): string | undefined {
  const time = now.toISOString().slice(11, 19);
  const app = "application" in event ? event.application : "config";
  const say = (text: string): string => `${time} ${app.padEnd(12)} ${text}`;
  switch (event.type) {
    case "Progress":
      return say(event.message);
    case "SyncStarted":
      return undefined;
    case "SyncFinished": {
      const commit = event.commit ? ` "${event.commit.subject}"` : "";
      return say(`${event.outcome === "Succeeded" ? "synced" : "sync FAILED at"} ${shortRevision(event.revision)}${commit} in ${event.durationMs} ms: ${event.outcome === "Succeeded" ? summarizeChangeSet(event.changeSet) : event.message}`);
    }
    case "DriftDetected":
      return say(
        `drift: ${event.objects.map((o) => `${displayKey(o.key)} (${o.differences.map((d) => (d.path === "" ? "missing" : d.path)).join(", ")})`).join("; ")}${event.selfHeal ? " - correcting" : " - self-heal is off"}`,
      );
    case "DriftCorrected":
      return say(`drift corrected: ${event.objects.map(displayKey).join(", ")}`);
    case "StatusChanged":
      return undefined;
    case "ConfigRejected":
      return say(`configuration at ${shortRevision(event.revision)} rejected, keeping the last good one:\n${event.problems.map((p) => `    ${formatProblem(p)}`).join("\n")}`);
    case "RevisionRefused":
      return say(`${shortRevision(event.revision)} refused (${event.reason}):\n${event.problems.filter((p) => p.severity === "error").map((p) => `    ${formatProblem(p)}`).join("\n") || `    ${event.message}`}`);
    case "ConfigLoaded":
      return say(`configuration at ${shortRevision(event.revision)}: ${count(event.applications.length, "application")} (${event.applications.join(", ")})`);
    case "ApplicationRemoved":
      return say(`removed from Git${event.pruned.length > 0 ? `; pruned ${event.pruned.map(displayKey).join(", ")}` : ""}`);
  }
}

export { formatDiffs };

/**
 * A listener that prints engine events for people. Progress is shown for
 * runs that change something (between SyncStarted and SyncFinished) and for
 * failures; the many quiet runs that find nothing to do print nothing.
 */
export function eventPrinter(write: (line: string) => void, options: { readonly allProgress?: boolean } = {}): (event: EngineEvent) => void {
  const syncing = new Set<string>();
  const lastFailure = new Map<string, string>();
  return (event) => {
    if (event.type === "SyncStarted") syncing.add(event.application);
    if (event.type === "Progress") {
      const failed = event.message.startsWith("failed:");
      if (failed && lastFailure.get(event.application) === event.message) return;
      if (failed) lastFailure.set(event.application, event.message);
      if (!failed && !syncing.has(event.application) && !options.allProgress) return;
    }
    if (event.type === "SyncFinished") {
      syncing.delete(event.application);
      if (event.outcome === "Succeeded") lastFailure.delete(event.application);
    }
    const line = formatEvent(event);
    if (line) write(line);
  };
}
