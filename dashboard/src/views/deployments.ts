import type { Deployment } from "../../../src/history/types.js";
import type { View } from "../context.js";
import { debounce, h, replace } from "../dom.js";
import { deploymentsTable } from "./history.js";

/**
 * "Which version was where, when": deployments of every application, newest
 * first, narrowed by environment, version or a moment (GET /api/v1/deployments).
 */
export const deploymentsView: View = (main, context) => {
  const fields = {
    application: h("input", { type: "search", placeholder: "application", "aria-label": "application" }),
    environment: h("input", { type: "search", placeholder: "environment", "aria-label": "environment" }),
    version: h("input", { type: "search", placeholder: "version", "aria-label": "version" }),
    at: h("input", { type: "datetime-local", "aria-label": "running at", title: "only deployments running at this moment" }),
  };
  const table = h("div");
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Older deployments");
  const items: Deployment[] = [];
  let cursor: number | undefined;

  main.append(
    h("section", { class: "toolbar" }, h("h1", null, "Deployments"), fields.application, fields.environment, fields.version, h("label", { class: "muted small" }, "running at ", fields.at)),
    h("p", { class: "muted" }, "Which version ran in which environment, from when to when, newest first."),
    h("section", { class: "card" }, table, more),
  );

  const params = (): Record<string, string> => {
    const p: Record<string, string> = { limit: "100" };
    for (const key of ["application", "environment", "version"] as const) if (fields[key].value.trim()) p[key] = fields[key].value.trim();
    if (fields.at.value) p.at = new Date(fields.at.value).toISOString();
    return p;
  };
  let generation = 0;
  const load = async (append: boolean): Promise<void> => {
    const mine = ++generation;
    try {
      const page = await context.api.deployments({ ...params(), ...(append && cursor !== undefined ? { before: String(cursor) } : {}) });
      if (mine !== generation) return;
      if (!append) items.splice(0);
      items.push(...page.items);
      cursor = page.next;
      more.hidden = cursor === undefined;
      replace(table, deploymentsTable(items, { application: true }));
    } catch (error) {
      if (mine === generation) replace(table, h("p", { class: "error" }, (error as Error).message));
    }
  };
  const changed = debounce(() => void load(false), 250);
  for (const field of Object.values(fields)) field.addEventListener("input", changed);
  more.addEventListener("click", () => void load(true));
  const reload = debounce(() => void load(false), 1000);
  const stopEvents = context.onEvent((event) => {
    if (event.type === "SyncFinished") reload();
  });
  const stopReconnect = context.onReconnect(reload);
  void load(false);
  return () => {
    generation++;
    changed.cancel();
    reload.cancel();
    stopEvents();
    stopReconnect();
  };
};
