import type { DiffView } from "../../../src/diff/format-diff.js";
import { isChange } from "../../../src/diff/format-diff.js";
import type { ApplicationStatus, InventoryEntry } from "../../../src/engine/status.js";
import type { Hold } from "../../../src/history/types.js";
import { displayKey, parseResourceKey } from "../../../src/core/ids.js";
import { formatProblem, pointerToPath } from "../../../src/core/errors.js";
import type { ResourceKey } from "../../../src/core/ids.js";
import type { View } from "../context.js";
import { debounce, h, replace } from "../dom.js";
import { ago, badge, healthBadge, readyBadge, short, showValue, syncBadge, time } from "../format.js";
import { deploymentsTable, timeline } from "./history.js";

/**
 * One application: its conditions, last sync, drift, objects by kind with
 * their health, the diff against Git, its history and deployments. The status
 * follows the live events; the diff and history reload after each sync.
 */
export function applicationView(name: string): View {
  return (main, context) => {
    const header = h("section", { class: "app-header" });
    const hold = h("div", { "data-testid": "hold" });
    const actions = h("div", { class: "actions" });
    const overview = h("div", { class: "grid" });
    const objects = h("section", { class: "card" });
    const diff = h("section", { class: "card" });
    const history = h("section", { class: "card" });
    const deployments = h("section", { class: "card" });
    main.append(h("p", null, h("a", { href: "#/" }, "← All applications")), header, hold, actions, overview, objects, diff, deployments, history);

    // Events carry the status without the environment; keep the one the API named.
    let environment: string | undefined;
    let showSuspension: ((s: ApplicationStatus) => void) | undefined;
    const draw = (next: ApplicationStatus & { environment?: string }): void => {
      environment = next.environment ?? environment;
      showSuspension?.(next);
      drawHeader(header, { ...next, ...(environment !== undefined ? { environment } : {}) });
      drawOverview(overview, next);
      drawObjects(objects, next);
    };
    const loadStatus = async (): Promise<void> => {
      try {
        draw(await context.api.application(name));
      } catch (error) {
        replace(header, h("h1", null, name), h("div", { class: "card error" }, (error as Error).message));
      }
    };
    const loadHold = async (): Promise<void> => {
      try {
        const found = (await context.api.holds()).holds.find((held) => held.application === name);
        drawHold(hold, name, found, context, () => void loadHold());
      } catch (error) {
        replace(hold, h("p", { class: "error" }, (error as Error).message));
      }
    };
    const loadDiff = async (): Promise<void> => {
      try {
        const answer = await context.api.diff(name);
        if ("error" in answer) {
          replace(diff, h("h2", null, "Diff against Git"), h("p", { class: "error" }, answer.error), h("ul", null, answer.problems.map((p) => h("li", null, h("code", null, formatProblem(p))))));
        } else drawDiff(diff, answer.diffs);
      } catch (error) {
        replace(diff, h("h2", null, "Diff against Git"), h("p", { class: "error" }, (error as Error).message));
      }
    };
    const loadHistory = async (): Promise<void> => {
      try {
        const [events, runs] = await Promise.all([context.api.history({ application: name, limit: "50" }), context.api.deployments({ application: name, limit: "20" })]);
        replace(deployments, h("h2", null, "Deployments"), h("p", { class: "muted" }, "Which version ran where, from when to when."), deploymentsTable(runs.items, { application: false }));
        replace(history, h("h2", null, "History"), timeline(events.items, context, { application: name }, events.next));
      } catch (error) {
        replace(history, h("h2", null, "History"), h("p", { class: "error" }, (error as Error).message));
      }
    };

    if (context.scope === "admin") showSuspension = drawActions(actions, name, context, () => void Promise.all([loadStatus(), loadHold(), loadDiff(), loadHistory()]));

    const later = debounce(() => void Promise.all([loadHold(), loadDiff(), loadHistory()]), 500);
    const stopEvents = context.onEvent((event) => {
      if (!("application" in event) || event.application !== name) return;
      if (event.type === "StatusChanged") draw(event.status);
      if (event.type === "SyncFinished" || event.type === "DriftDetected" || event.type === "DriftCorrected") later();
    });
    const stopReconnect = context.onReconnect(() => void Promise.all([loadStatus(), loadHold(), loadDiff(), loadHistory()]));
    void Promise.all([loadStatus(), loadHold(), loadDiff(), loadHistory()]);
    document.title = `${name} · Ferry`;
    return () => {
      document.title = "Ferry";
      later.cancel();
      stopEvents();
      stopReconnect();
    };
  };
}

function drawHeader(header: HTMLElement, s: ApplicationStatus & { environment?: string }): void {
  const versions = s.lastSync?.versions ?? [];
  replace(
    header,
    h("h1", null, s.name),
    h(
      "div",
      { class: "badges" },
      readyBadge(s.conditions),
      syncBadge(s.sync.status),
      healthBadge(s.health.status, s.health.message),
      s.drift.length > 0 ? badge(`${s.drift.length} drifted`, "warn") : null,
      s.suspended ? badge("suspended", "muted", s.suspension ? `by ${s.suspension.by} at ${s.suspension.at}${s.suspension.reason ? `: ${s.suspension.reason}` : ""}` : "spec.suspend in Git") : null,
    ),
    h(
      "dl",
      { class: "facts" },
      fact("Revision", h("code", { title: s.sync.revision ?? "", "data-testid": "revision" }, short(s.sync.revision))),
      s.lastAttemptedRevision && s.lastAttemptedRevision !== s.sync.revision ? fact("Newest seen", h("code", { title: s.lastAttemptedRevision }, short(s.lastAttemptedRevision))) : null,
      fact("Version", versions.length > 0 ? versions.join(", ") : "—"),
      fact("Environment", s.environment ?? "—"),
      fact("Target", s.target),
    ),
    s.health.status !== "Healthy" ? h("p", { class: "health-message" }, s.health.message) : null,
  );
}

/** The hold a rollback put on the application, if any, and (admin token) the button that releases it. */
function drawHold(hold: HTMLElement, name: string, held: Hold | undefined, context: Parameters<View>[1], reload: () => void): void {
  if (!held) return void replace(hold);
  const release = context.scope === "admin" ? h("button", { type: "button", class: "secondary" }, "Release hold") : null;
  release?.addEventListener("click", () => {
    release.disabled = true;
    void context.api
      .release(name)
      .catch((error: unknown) => replace(hold, h("p", { class: "error" }, (error as Error).message)))
      .finally(reload);
  });
  replace(
    hold,
    h(
      "div",
      { class: "card hold" },
      h("p", null, badge("held", "warn", `since ${held.since}`), `${held.by ? ` by ${held.by}:` : ""} ${held.reason}. Automatic promotion leaves ${name} where it is until the hold is released (`, h("code", null, `ferry release ${name}`), ")."),
      release,
    ),
  );
}

function fact(term: string, value: Node | string): HTMLElement[] {
  return [h("dt", null, term), h("dd", null, value)];
}

function drawOverview(overview: HTMLElement, s: ApplicationStatus): void {
  const last = s.lastSync;
  replace(
    overview,
    h(
      "section",
      { class: "card" },
      h("h2", null, "Conditions"),
      h(
        "table",
        null,
        h("thead", null, h("tr", null, h("th", null, "Type"), h("th", null, "Status"), h("th", null, "Reason"), h("th", null, "Message"), h("th", null, "Since"))),
        h(
          "tbody",
          null,
          s.conditions.map((c) =>
            h(
              "tr",
              null,
              h("td", null, c.type),
              h("td", null, badge(c.status, c.status === "True" ? (c.type === "Ready" ? "good" : c.type === "Stalled" ? "bad" : "busy") : c.status === "False" ? "bad" : "muted")),
              h("td", null, c.reason),
              h("td", null, c.message),
              h("td", { title: c.lastTransitionTime }, ago(c.lastTransitionTime)),
            ),
          ),
        ),
      ),
      s.problems.length > 0 ? [h("h3", null, "Problems"), h("ul", { class: "problems" }, s.problems.map((p) => h("li", { class: p.severity }, h("code", null, formatProblem(p)))))] : null,
    ),
    h(
      "section",
      { class: "card" },
      h("h2", null, "Last sync"),
      last
        ? h(
            "dl",
            { class: "facts" },
            fact("Outcome", badge(last.outcome, last.outcome === "Succeeded" ? "good" : "bad", last.message)),
            fact("Revision", h("code", { title: last.revision }, short(last.revision))),
            last.commit ? fact("Commit", `${last.commit.subject} — ${last.commit.author}`) : null,
            fact("Trigger", last.trigger),
            fact("Finished", time(last.finishedAt)),
            fact("Took", `${Math.max(0, Date.parse(last.finishedAt) - Date.parse(last.startedAt))} ms`),
            fact("Changes", changeSummary(last.changeSet)),
            fact("Message", last.message),
          )
        : h("p", { class: "muted" }, "Not synced yet."),
    ),
    h(
      "section",
      { class: "card" },
      h("h2", null, "Drift"),
      s.drift.length === 0
        ? h("p", { class: "muted" }, "Live matches Git at the applied revision.")
        : h(
            "ul",
            { class: "drift-list" },
            s.drift.map((d) => h("li", null, h("strong", null, displayKey(d.key)), h("ul", null, d.differences.map((f) => h("li", null, h("code", null, pointerToPath(f.path)), f.contentDiff !== undefined ? unifiedDiff(f.contentDiff) : null))))),
          ),
    ),
  );
}

function changeSummary(c: NonNullable<ApplicationStatus["lastSync"]>["changeSet"]): string {
  const parts = (["created", "configured", "deleted", "unchanged"] as const).filter((k) => c[k].length > 0).map((k) => `${c[k].length} ${k}`);
  if (c.failed.length > 0) parts.push(`${c.failed.length} failed`);
  return parts.join(", ") || "nothing to do";
}

/** The inventory as a tree: kind, then objects with their health. */
function drawObjects(section: HTMLElement, s: ApplicationStatus): void {
  const byKind = new Map<string, InventoryEntry[]>();
  for (const entry of s.inventory) {
    const kind = parseResourceKey(entry.key).kind;
    byKind.set(kind, [...(byKind.get(kind) ?? []), entry]);
  }
  const drifted = new Set<ResourceKey>(s.drift.map((d) => d.key));
  replace(
    section,
    h("h2", null, `Objects (${s.inventory.length})`),
    s.inventory.length === 0
      ? h("p", { class: "muted" }, "No objects applied yet.")
      : h(
          "ul",
          { class: "tree", "data-testid": "objects" },
          [...byKind.entries()]
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([kind, entries]) =>
              h(
                "li",
                null,
                h("details", { open: true }, h("summary", null, h("strong", null, kind), h("span", { class: "muted" }, ` ${entries.length}`)),
                  h(
                    "ul",
                    null,
                    entries
                      .sort((a, b) => a.key.localeCompare(b.key))
                      .map((entry) => {
                        const ref = parseResourceKey(entry.key);
                        return h(
                          "li",
                          { class: "object", "data-key": entry.key },
                          healthBadge(entry.health.status, entry.health.message),
                          h("span", { class: "object-name" }, ref.namespace ? `${ref.namespace}/${ref.name}` : ref.name),
                          drifted.has(entry.key) ? badge("drifted", "warn") : null,
                          h("span", { class: "muted" }, entry.health.message),
                        );
                      }),
                  ),
                ),
              ),
            ),
        ),
  );
}

function drawDiff(section: HTMLElement, diffs: readonly DiffView[]): void {
  const changes = diffs.filter((d) => d.type !== "same" || d.ignored);
  const inSync = !changes.some(isChange);
  replace(
    section,
    h("h2", null, "Diff against Git"),
    inSync ? h("p", { class: "muted" }, `No differences: the target matches Git.${changes.length > 0 ? " Ignore rules hide the differences below: they are shown, never synced." : ""}`) : null,
    changes.length === 0
      ? null
      : h(
          "div",
          { class: "diff" },
          changes.map((d) => {
            const name = displayKey(d.key);
            if (d.type === "missing") return h("div", { class: "diff-object add" }, h("div", { class: "diff-title" }, `+ ${name}`, h("span", { class: "muted" }, " will be created")));
            if (d.type === "orphan") return h("div", { class: "diff-object remove" }, h("div", { class: "diff-title" }, `− ${name}`, h("span", { class: "muted" }, " no longer in Git: pruned when pruning is on")));
            const row = (f: DiffView["differences"][number], note: string | undefined, ignored: boolean): HTMLElement =>
              "contentDiff" in f && f.contentDiff !== undefined
                ? h("tr", null, h("td", null, h("code", null, "content")), h("td", { colspan: "2" }, unifiedDiff(f.contentDiff)), h("td", { class: "muted" }, note ?? ""))
                : h(
                "tr",
                ignored ? { class: "ignored" } : null,
                h("td", null, h("code", null, pointerToPath(f.path))),
                h("td", { class: "old" }, h("code", null, showValue(f.live))),
                h("td", { class: "new" }, h("code", null, showValue(f.desired))),
                h("td", { class: "muted" }, note ?? ""),
              );
            return h(
              "div",
              { class: d.type === "same" ? "diff-object ignored" : "diff-object change" },
              h("div", { class: "diff-title" }, `${d.type === "same" ? "=" : "~"} ${name}`, d.type === "same" ? h("span", { class: "muted" }, " matches Git apart from ignored fields") : null),
              h(
                "table",
                null,
                h("thead", null, h("tr", null, h("th", null, "Field"), h("th", null, "Live"), h("th", null, "Git"), h("th", null, "Why"))),
                h(
                  "tbody",
                  null,
                  d.differences.map((f) => row(f, f.explanation, false)),
                  (d.ignored ?? []).map((f) => row(f, `ignored by ${f.ignoredBy}${f.explanation ? `; ${f.explanation}` : ""}`, true)),
                ),
              ),
            );
          }),
        ),
  );
}

/** Sync, refresh, suspend or resume, and rollback: only with the admin token. Returns what shows the suspension on the buttons. */
function drawActions(actions: HTMLElement, name: string, context: Parameters<View>[1], reload: () => void): (s: ApplicationStatus) => void {
  const output = h("pre", { class: "progress", hidden: true });
  const suspend = h("button", { type: "button", class: "secondary" }, "Suspend");
  let suspended = false;
  const sync = h("button", { type: "button" }, "Sync now");
  const refresh = h("button", { type: "button", class: "secondary" }, "Refresh sources");
  const reason = h("input", { type: "text", placeholder: "reason for the rollback", "aria-label": "rollback reason" });
  const rollback = h("button", { type: "button", class: "danger" }, "Roll back");
  const busy = async (button: HTMLButtonElement, work: () => Promise<void>): Promise<void> => {
    button.disabled = true;
    try {
      await work();
    } catch (error) {
      output.hidden = false;
      output.textContent += `error: ${(error as Error).message}\n`;
    } finally {
      button.disabled = false;
      reload();
    }
  };
  sync.addEventListener("click", () => {
    output.hidden = false;
    output.textContent = "";
    void busy(sync, () =>
      context.api.sync(name, (line) => {
        if (line.type === "Progress") output.textContent += `${line.message}\n`;
        else if (line.type === "SyncFinished") output.textContent += `${line.outcome}: ${line.message}\n`;
        else if (line.type === "Result") output.textContent += `done: ${line.status.conditions.find((c) => c.type === "Ready")?.message ?? ""}\n`;
      }),
    );
  });
  refresh.addEventListener("click", () => void busy(refresh, async () => void (await context.api.refresh())));
  suspend.addEventListener("click", () => {
    if (suspended) return void busy(suspend, async () => void (await context.api.resume(name)));
    const why = prompt(`Suspend ${name}? The agent stops syncing and self-healing it until resumed (drift is still reported). Reason:`);
    if (why === null) return;
    void busy(suspend, async () => void (await context.api.suspend(name, why.trim())));
  });
  rollback.addEventListener("click", () => {
    if (!confirm(`Roll ${name} back to its previous deployment? Ferry commits the revert to Git and holds the application against automatic promotion.`)) return;
    output.hidden = false;
    void busy(rollback, async () => {
      const result = await context.api.rollback(name, reason.value.trim());
      output.textContent = `rolled back: commit ${short(result.commit)} restores ${result.to.versions.join(", ") || short(result.to.revision)}\n`;
    });
  });
  replace(actions, h("div", { class: "row" }, sync, refresh, suspend, h("span", { class: "spacer" }), reason, rollback), output);
  return (s) => {
    // Only a runtime suspension can be resumed here; spec.suspend is changed in Git.
    suspended = s.suspension !== undefined;
    suspend.textContent = suspended ? "Resume" : "Suspend";
    suspend.disabled = s.suspended && !suspended;
    sync.disabled = suspended;
  };
}

/** A unified diff (live to Git), its added, removed and hunk lines marked. */
function unifiedDiff(text: string): HTMLElement {
  const kind = (line: string): string =>
    line.startsWith("+++") || line.startsWith("---") ? "diff-file" : line.startsWith("+") ? "diff-add" : line.startsWith("-") ? "diff-del" : line.startsWith("@@") ? "diff-hunk" : "diff-context";
  return h("pre", { class: "unified-diff" }, text.split("\n").map((line) => h("span", { class: kind(line) }, `${line}\n`)));
}
