import type { Deployment, HistoryEntry } from "../../../src/history/types.js";
import type { Context } from "../context.js";
import { h } from "../dom.js";
import { ago, badge, short, time } from "../format.js";

const TONE: Readonly<Record<string, string>> = {
  SyncFinished: "good",
  DriftDetected: "warn",
  DriftCorrected: "good",
  Rollback: "bad",
  Hold: "warn",
  Release: "muted",
  Suspend: "warn",
  Resume: "muted",
  ConfigRejected: "bad",
  RevisionRefused: "bad",
  ApplicationRemoved: "muted",
  SyncStarted: "muted",
};

/** The history as a timeline, newest first, with "Older" loading the next page. */
export function timeline(entries: readonly HistoryEntry[], context: Context, filter: Record<string, string>, next: number | undefined): HTMLElement {
  const list = h("ol", { class: "timeline", "data-testid": "timeline" });
  const more = h("button", { type: "button", class: "secondary", hidden: next === undefined }, "Older events");
  let cursor = next;
  const add = (items: readonly HistoryEntry[]): void => {
    for (const entry of items) list.append(timelineEntry(entry));
  };
  add(entries);
  more.addEventListener("click", () => {
    if (cursor === undefined) return;
    more.disabled = true;
    void context.api
      .history({ ...filter, limit: "50", before: String(cursor) })
      .then((page) => {
        add(page.items);
        cursor = page.next;
        more.hidden = cursor === undefined;
      })
      .finally(() => (more.disabled = false));
  });
  return h("div", null, entries.length === 0 ? h("p", { class: "muted" }, "Nothing recorded yet.") : null, list, more);
}

function timelineEntry(e: HistoryEntry): HTMLElement {
  const failed = e.outcome === "Failed";
  const tone = failed ? "bad" : (TONE[e.type] ?? "muted");
  const change = e.details?.changeSet as Record<string, unknown[]> | undefined;
  return h(
    "li",
    { class: `event ${tone}` },
    h("div", { class: "when", title: e.at }, time(e.at), h("span", { class: "muted" }, ` · ${ago(e.at)}`)),
    h(
      "div",
      { class: "what" },
      badge(e.type === "SyncFinished" ? (failed ? "Sync failed" : "Synced") : e.type, tone),
      e.revision ? h("code", { title: e.revision }, short(e.revision)) : null,
      e.versions && e.versions.length > 0 ? h("span", { class: "version" }, e.versions.join(", ")) : null,
      e.environment ? h("span", { class: "env" }, e.environment) : null,
      e.trigger ? h("span", { class: "muted" }, `by ${e.trigger}`) : null,
      e.type === "SyncFinished" && e.changed === false ? h("span", { class: "muted" }, "no change") : null,
    ),
    e.subject ? h("div", null, e.subject, e.author ? h("span", { class: "muted" }, ` — ${e.author}`) : null) : null,
    e.message && e.message !== e.subject ? h("div", { class: failed ? "error" : "muted" }, e.message) : null,
    change ? h("div", { class: "muted small" }, changeText(change)) : null,
  );
}

function changeText(change: Record<string, unknown[]>): string {
  return (
    ["created", "configured", "deleted", "failed"]
      .filter((k) => (change[k]?.length ?? 0) > 0)
      .map((k) => `${change[k]?.length} ${k}`)
      .join(", ") || ""
  );
}

/** Deployments as a table: which version ran in which environment, from when to when. */
export function deploymentsTable(items: readonly Deployment[], options: { application: boolean }): HTMLElement {
  if (items.length === 0) return h("p", { class: "muted" }, "No deployments recorded yet.");
  return h(
    "table",
    { class: "deployments" },
    h("thead", null, h("tr", null, options.application ? h("th", null, "Application") : null, ...["Environment", "Version", "Revision", "From", "To", "Commit"].map((t) => h("th", null, t)))),
    h(
      "tbody",
      null,
      items.map((d) =>
        h(
          "tr",
          { class: d.to ? "" : "running" },
          options.application ? h("td", null, h("a", { href: `#/applications/${encodeURIComponent(d.application)}` }, d.application)) : null,
          h("td", null, d.environment ?? h("span", { class: "muted" }, "—")),
          h("td", null, d.versions.length > 0 ? d.versions.join(", ") : h("span", { class: "muted" }, "—")),
          h("td", null, h("code", { title: d.revision }, short(d.revision)), d.rollbackId !== undefined ? badge("rollback", "warn") : null),
          h("td", null, time(d.from)),
          h("td", null, d.to ? time(d.to) : badge("running", "good")),
          h("td", null, d.subject ?? "", d.author ? h("span", { class: "muted" }, ` — ${d.author}`) : null),
        ),
      ),
    ),
  );
}
