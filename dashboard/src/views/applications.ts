import type { ListedApplication } from "../../../src/agent/application-query.js";
import { HEALTH_ORDER } from "../../../src/core/health.js";
import type { ApplicationFilters } from "../api.js";
import type { View } from "../context.js";
import { debounce, h, replace } from "../dom.js";
import { healthBadge, readyBadge, short, syncBadge } from "../format.js";

const PAGE_SIZE = 100;
const SYNC_STATUSES = ["Synced", "OutOfSync", "Unknown"];

/**
 * Every application at a glance, one page at a time: the agent filters and
 * pages (GET /api/v1/applications), so thousands of applications cost one
 * page. Live events reload the page shown, at most a few times a second.
 */
export const applicationsView: View = (main, context) => {
  const filters = { search: "", health: "", sync: "", ...filtersFromStorage() };
  /** Cursors of the pages before the one shown; the last is the current page's. */
  const cursors: (string | undefined)[] = [undefined];
  let shown = new Set<string>();

  const search = h("input", { type: "search", class: "wide", placeholder: "Search name, environment, revision, version", value: filters.search, "aria-label": "search" });
  const health = select("health", ["", ...HEALTH_ORDER], filters.health, "all health");
  const sync = select("sync", ["", ...SYNC_STATUSES], filters.sync, "all sync statuses");
  const summary = h("span", { class: "muted", "data-testid": "summary" });
  const body = h("tbody");
  const previous = h("button", { type: "button", class: "secondary", disabled: true }, "← Previous");
  const next = h("button", { type: "button", class: "secondary", disabled: true }, "Next →");
  const problems = h("div");

  main.append(
    h("section", { class: "toolbar" }, h("h1", null, "Applications"), search, health, sync, context.scope === "admin" ? refreshButton(context.api.refresh.bind(context.api)) : null),
    problems,
    h(
      "table",
      { class: "apps" },
      h("thead", null, h("tr", null, ...["Name", "Ready", "Sync", "Revision", "Health", "Drift", "Environment", "Version"].map((t) => h("th", null, t)))),
      body,
    ),
    h("div", { class: "pager" }, summary, h("span", { class: "spacer" }), previous, next),
  );

  let generation = 0;
  const load = async (): Promise<void> => {
    const mine = ++generation;
    try {
      const list = await context.api.applications(filters, PAGE_SIZE, cursors.at(-1));
      if (mine !== generation) return;
      shown = new Set(list.applications.map((a) => a.name));
      replace(body, list.applications.length > 0 ? list.applications.map(row) : h("tr", null, h("td", { colspan: 8, class: "empty" }, emptyText(filters, list.total))));
      const first = (cursors.length - 1) * PAGE_SIZE;
      summary.textContent = list.total === 0 ? "" : `${first + 1}–${first + list.applications.length} of ${list.total.toLocaleString()} application${list.total === 1 ? "" : "s"}`;
      previous.disabled = cursors.length <= 1;
      next.disabled = list.continue === undefined;
      next.onclick = () => {
        cursors.push(list.continue);
        void load();
      };
      const configProblems = list.config.problems.filter((p) => p.severity === "error");
      replace(
        problems,
        configProblems.length > 0
          ? h(
              "div",
              { class: "card error" },
              h("strong", null, `The configuration at ${short(list.config.lastAttemptedRevision)} was rejected; the agent keeps ${short(list.config.revision)}.`),
              h("ul", null, configProblems.map((p) => h("li", null, p.message))),
            )
          : null,
      );
    } catch (error) {
      if (mine === generation) replace(problems, h("div", { class: "card error" }, (error as Error).message));
    }
  };

  const filtered = (): void => {
    sessionStorage.setItem("ferry.filters", JSON.stringify(filters));
    cursors.splice(1);
    void load();
  };
  const typed = debounce(() => {
    filters.search = search.value.trim();
    filtered();
  }, 200);
  search.addEventListener("input", typed);
  health.addEventListener("change", () => ((filters.health = health.value), filtered()));
  sync.addEventListener("change", () => ((filters.sync = sync.value), filtered()));
  previous.addEventListener("click", () => {
    cursors.pop();
    void load();
  });

  const reload = debounce(() => void load(), 300);
  const stopEvents = context.onEvent((event) => {
    // A status change can move an application into or out of the filters: reload the page, not one row.
    if (event.type === "StatusChanged" || event.type === "ConfigLoaded" || event.type === "ApplicationRemoved") {
      if (event.type !== "StatusChanged" || shown.has(event.application) || filters.health || filters.sync || filters.search || shown.size < PAGE_SIZE) reload();
    }
  });
  const stopReconnect = context.onReconnect(reload);
  void load();
  return () => {
    generation++;
    typed.cancel();
    reload.cancel();
    stopEvents();
    stopReconnect();
  };
};

function row(app: ListedApplication): HTMLTableRowElement {
  const href = `#/applications/${encodeURIComponent(app.name)}`;
  const versions = app.lastSync?.versions ?? [];
  return h(
    "tr",
    { "data-app": app.name },
    h(
      "td",
      null,
      h("a", { href, class: "name" }, app.name),
      app.suspended ? h("span", { class: "badge muted", title: suspendedTitle(app), "data-testid": "suspended" }, "suspended") : null,
      app.hold ? h("span", { class: "badge warn", title: `on hold since ${app.hold.since}${app.hold.by ? ` by ${app.hold.by}` : ""}: ${app.hold.reason} (${app.hold.release})`, "data-testid": "held" }, "held") : null,
      app.promotion ? h("span", { class: "badge warn", title: app.promotion.message, "data-testid": "promotion" }, app.promotion.phase === "AwaitingApproval" ? "awaits approval" : app.promotion.phase === "Held" ? "promotion held" : "awaits promote") : null,
    ),
    h("td", null, readyBadge(app.conditions)),
    h("td", null, syncBadge(app.sync.status)),
    h("td", null, h("code", { title: app.sync.revision ?? "" }, short(app.sync.revision))),
    h("td", null, healthBadge(app.health.status, app.health.message)),
    h("td", { class: app.drift.length > 0 ? "drift" : "muted" }, String(app.drift.length)),
    h("td", null, app.environment ?? h("span", { class: "muted" }, "—")),
    h("td", null, versions.length > 0 ? versions.join(", ") : h("span", { class: "muted" }, "—")),
  );
}

function select(name: string, values: readonly string[], current: string, allLabel: string): HTMLSelectElement {
  return h("select", { name, "aria-label": name }, values.map((v) => h("option", { value: v, selected: v === current }, v || allLabel)));
}

function refreshButton(refresh: () => Promise<unknown>): HTMLButtonElement {
  const button = h("button", { type: "button", class: "secondary", title: "check every source for new commits now" }, "Refresh");
  button.addEventListener("click", () => {
    button.disabled = true;
    button.textContent = "Refreshing…";
    refresh()
      .catch((error: unknown) => alert(`refresh failed: ${(error as Error).message}`))
      .finally(() => {
        button.disabled = false;
        button.textContent = "Refresh";
      });
  });
  return button;
}

function emptyText(filters: ApplicationFilters, total: number): string {
  if (total === 0 && !filters.search && !filters.health && !filters.sync) return "No applications yet: commit an Application document to the configuration's folder.";
  return "No application matches these filters.";
}

function filtersFromStorage(): Partial<ApplicationFilters> {
  try {
    return JSON.parse(sessionStorage.getItem("ferry.filters") ?? "{}") as Partial<ApplicationFilters>;
  } catch {
    return {};
  }
}

/** Who suspended it and when, for the badge's tooltip. */
function suspendedTitle(app: ListedApplication): string {
  const s = app.suspension;
  return s ? `suspended by ${s.by} at ${s.at}${s.reason ? `: ${s.reason}` : ""}` : "suspended in Git (spec.suspend)";
}
