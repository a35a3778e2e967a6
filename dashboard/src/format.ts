import type { Condition } from "../../src/core/conditions.js";
import type { HealthStatus } from "../../src/core/health.js";
import type { ApplicationStatus } from "../../src/engine/status.js";
import { h } from "./dom.js";

/** The first eight characters of a revision, or a dash. */
export function short(revision: string | undefined): string {
  return revision ? revision.slice(0, 8) : "—";
}

/** `3 min ago`, `in 2 h`: how long ago an ISO time was. */
export function ago(iso: string | undefined, now = Date.now()): string {
  if (!iso) return "—";
  const seconds = Math.round((now - Date.parse(iso)) / 1000);
  if (!Number.isFinite(seconds)) return iso;
  const abs = Math.abs(seconds);
  const [value, unit] = abs < 60 ? [abs, "s"] : abs < 3600 ? [Math.floor(abs / 60), "min"] : abs < 86400 ? [Math.floor(abs / 3600), "h"] : [Math.floor(abs / 86400), "d"];
  if (abs < 5) return "just now";
  return seconds >= 0 ? `${value} ${unit} ago` : `in ${value} ${unit}`;
}

/** A time as the reader's local date and time, with the ISO form on hover. */
export function time(iso: string | undefined): HTMLElement {
  if (!iso) return h("span", { class: "muted" }, "—");
  return h("time", { datetime: iso, title: iso }, new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" }));
}

const HEALTH_TONE: Readonly<Record<HealthStatus, string>> = {
  Healthy: "good",
  Suspended: "muted",
  Progressing: "busy",
  Missing: "warn",
  Degraded: "bad",
  Unknown: "muted",
};

/** A coloured label; `tone` is one of good, bad, warn, busy, muted. */
export function badge(text: string, tone: string, title?: string): HTMLElement {
  return h("span", { class: `badge ${tone}`, title }, text);
}

export function healthBadge(status: HealthStatus, message?: string): HTMLElement {
  return badge(status, HEALTH_TONE[status], message);
}

export function syncBadge(status: ApplicationStatus["sync"]["status"]): HTMLElement {
  return badge(status, status === "Synced" ? "good" : status === "OutOfSync" ? "warn" : "muted");
}

/** Ready as people read it: Ready, Reconciling, Stalled or Not ready, with the reason on hover. */
export function readyBadge(conditions: readonly Condition[]): HTMLElement {
  const ready = conditions.find((c) => c.type === "Ready");
  const title = ready ? `${ready.reason}: ${ready.message}` : undefined;
  if (ready?.status === "True") return badge("Ready", "good", title);
  if (conditions.some((c) => c.type === "Stalled" && c.status === "True")) return badge("Stalled", "bad", title);
  if (conditions.some((c) => c.type === "Reconciling" && c.status === "True")) return badge("Reconciling", "busy", title);
  return ready?.status === "False" ? badge("Not ready", "bad", title) : badge("Unknown", "muted", title);
}

/** A JSON value on one line, cut at 160 characters. */
export function showValue(value: unknown): string {
  if (value === undefined) return "(absent)";
  const text = JSON.stringify(value);
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}
