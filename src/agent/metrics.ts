import type { EngineEvent, EngineListener } from "../engine/events.js";
import type { TargetCall } from "../engine/observed-target.js";

/** Upper bounds (seconds) of histogram buckets: from a fast file write to a slow rollout. */
const BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** A stage longer than this is a run that ended without a closing event, not a measurement. */
const MAX_STAGE_MS = 10 * 60_000;

/** Figures read when metrics are scraped, not counted as events. */
export interface MetricsSnapshot {
  readonly queueDepth: number;
  readonly historyPending: number;
  /** Renders run, runs a new revision did not need (it changed nothing the application reads), interval runs verified without a render. */
  readonly runs?: { readonly renders: number; readonly unchanged: number; readonly verified?: number };
  readonly applications: { readonly ready: number; readonly notReady: number };
  readonly repositories: readonly { readonly url: string; readonly ref: string; readonly lsRemote: number; readonly fetches: number }[];
}

class Histogram {
  readonly counts = BUCKETS.map(() => 0);
  count = 0;
  sum = 0;
  observe(seconds: number): void {
    this.count++;
    this.sum += seconds;
    BUCKETS.forEach((bound, i) => {
      if (seconds <= bound) this.counts[i] = (this.counts[i] ?? 0) + 1;
    });
  }
}

/**
 * The agent's Prometheus metrics: counted from engine events as they happen,
 * and rendered in the text exposition format with gauges read at scrape time.
 */
export class AgentMetrics {
  readonly #syncs = new Map<string, number>();
  readonly #drift = new Map<string, number>();
  readonly #webhooks = new Map<string, number>();
  readonly #targetCalls = new Map<string, number>();
  readonly #syncDuration = new Map<string, Histogram>();
  readonly #stageDuration = new Map<string, Histogram>();
  readonly #commitToApplied = new Histogram();
  readonly #stageStarted = new Map<string, { stage: string; at: number }>();
  readonly #promotions = new Map<string, number>();
  readonly #promotionDuration = new Map<string, Histogram>();
  #configRejected = 0;
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Subscribe this to the engine. */
  readonly listener: EngineListener = (event) => this.#observe(event);

  /** Counts one webhook request by provider and answered status. */
  webhook(provider: string, status: string): void {
    increment(this.#webhooks, labels({ provider, status }));
  }

  /** Counts one promotion step's outcome, and its duration from the commit to passing its gates. */
  promotion(pipeline: string, environment: string, outcome: "Succeeded" | "Failed", seconds?: number): void {
    increment(this.#promotions, labels({ pipeline, environment, outcome }));
    if (seconds === undefined) return;
    const key = labels({ pipeline, environment });
    const histogram = this.#promotionDuration.get(key) ?? new Histogram();
    histogram.observe(seconds);
    this.#promotionDuration.set(key, histogram);
  }

  /** Counts one call to a target (see Engine's observeTargetCall). */
  readonly targetCall = (call: TargetCall): void => {
    increment(this.#targetCalls, labels({ target: call.target, verb: call.verb, outcome: call.outcome }));
  };

  /** The exposition text. */
  render(snapshot: MetricsSnapshot): string {
    const out: string[] = [];
    const family = (name: string, type: string, help: string): void => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    };
    family("ferry_syncs_total", "counter", "Syncs that applied something, by application and outcome.");
    for (const [l, v] of sorted(this.#syncs)) out.push(`ferry_syncs_total{${l}} ${v}`);
    family("ferry_sync_duration_seconds", "histogram", "Duration of syncs from the first apply to healthy, by application.");
    for (const [l, h] of sorted(this.#syncDuration)) histogramLines(out, "ferry_sync_duration_seconds", l, h);
    family("ferry_reconcile_stage_duration_seconds", "histogram", "Duration of each stage of a reconcile run.");
    for (const [l, h] of sorted(this.#stageDuration)) histogramLines(out, "ferry_reconcile_stage_duration_seconds", l, h);
    family("ferry_commit_to_applied_seconds", "histogram", "From a commit's time to the successful sync that applied it.");
    histogramLines(out, "ferry_commit_to_applied_seconds", "", this.#commitToApplied);
    family("ferry_drift_events_total", "counter", "Drift detected and corrected, by application.");
    for (const [l, v] of sorted(this.#drift)) out.push(`ferry_drift_events_total{${l}} ${v}`);
    family("ferry_config_rejected_total", "counter", "Configuration revisions rejected as invalid.");
    out.push(`ferry_config_rejected_total ${this.#configRejected}`);
    family("ferry_webhook_requests_total", "counter", "Webhook requests by provider and answered status.");
    for (const [l, v] of sorted(this.#webhooks)) out.push(`ferry_webhook_requests_total{${l}} ${v}`);
    family("ferry_promotions_total", "counter", "Promotion steps by pipeline, environment and outcome (a step passed its gates, or stopped at one).");
    for (const [l, v] of sorted(this.#promotions)) out.push(`ferry_promotions_total{${l}} ${v}`);
    family("ferry_promotion_duration_seconds", "histogram", "From the commit of a promotion step to its environment passing every gate.");
    for (const [l, h] of sorted(this.#promotionDuration)) histogramLines(out, "ferry_promotion_duration_seconds", l, h);
    family("ferry_target_calls_total", "counter", "Calls the engine made to targets, by target, verb (describe, read, apply, delete, health) and outcome (ok, error).");
    for (const [l, v] of sorted(this.#targetCalls)) out.push(`ferry_target_calls_total{${l}} ${v}`);
    family("ferry_queue_depth", "gauge", "Applications waiting in the work queue.");
    out.push(`ferry_queue_depth ${snapshot.queueDepth}`);
    if (snapshot.runs) {
      family("ferry_renders_total", "counter", "Renders of applications' sources.");
      out.push(`ferry_renders_total ${snapshot.runs.renders}`);
      family("ferry_revisions_unchanged_total", "counter", "Runs not needed: a new revision changed no path the application's last render read.");
      out.push(`ferry_revisions_unchanged_total ${snapshot.runs.unchanged}`);
      family("ferry_interval_verified_total", "counter", "Interval runs that found inputs and live state unchanged and rendered nothing.");
      out.push(`ferry_interval_verified_total ${snapshot.runs.verified ?? 0}`);
    }
    family("ferry_history_pending_events", "gauge", "History events queued and not yet written.");
    out.push(`ferry_history_pending_events ${snapshot.historyPending}`);
    family("ferry_applications", "gauge", "Applications by readiness.");
    out.push(`ferry_applications{ready="true"} ${snapshot.applications.ready}`, `ferry_applications{ready="false"} ${snapshot.applications.notReady}`);
    family("ferry_git_ls_remote_total", "counter", "git ls-remote calls per repository and ref.");
    for (const r of snapshot.repositories) out.push(`ferry_git_ls_remote_total{${labels({ repository: r.url, ref: r.ref })}} ${r.lsRemote}`);
    family("ferry_git_fetches_total", "counter", "git fetch calls per repository and ref.");
    for (const r of snapshot.repositories) out.push(`ferry_git_fetches_total{${labels({ repository: r.url, ref: r.ref })}} ${r.fetches}`);
    return out.join("\n") + "\n";
  }

  #observe(event: EngineEvent): void {
    const now = this.#now();
    switch (event.type) {
      case "Progress": {
        const stage = event.stage;
        if (!stage) return;
        const previous = this.#stageStarted.get(event.application);
        // A run starts by fetching its source: what was open belongs to an earlier run.
        if (previous && stage !== "source" && previous.stage !== stage) this.#stageEnded(previous, now);
        if (!previous || previous.stage !== stage) this.#stageStarted.set(event.application, { stage, at: now });
        return;
      }
      case "SyncFinished": {
        const previous = this.#stageStarted.get(event.application);
        if (previous) this.#stageEnded(previous, now);
        this.#stageStarted.delete(event.application);
        increment(this.#syncs, labels({ application: event.application, outcome: event.outcome }));
        histogram(this.#syncDuration, labels({ application: event.application })).observe(event.durationMs / 1000);
        const committed = event.commit ? Date.parse(event.commit.time) : Number.NaN;
        if (event.outcome === "Succeeded" && event.trigger !== "drift" && !Number.isNaN(committed)) this.#commitToApplied.observe(Math.max(0, now - committed) / 1000);
        return;
      }
      case "DriftDetected":
        increment(this.#drift, labels({ application: event.application, kind: "detected" }));
        return;
      case "DriftCorrected":
        increment(this.#drift, labels({ application: event.application, kind: "corrected" }));
        return;
      case "ConfigRejected":
        this.#configRejected++;
        return;
      default:
        return;
    }
  }

  #stageEnded(started: { stage: string; at: number }, now: number): void {
    const ms = now - started.at;
    if (ms >= 0 && ms <= MAX_STAGE_MS) histogram(this.#stageDuration, labels({ stage: started.stage })).observe(ms / 1000);
  }
}

function histogramLines(out: string[], name: string, labelText: string, h: Histogram): void {
  const join = (extra: string): string => (labelText ? `${labelText},${extra}` : extra);
  BUCKETS.forEach((bound, i) => out.push(`${name}_bucket{${join(`le="${bound}"`)}} ${h.counts[i] ?? 0}`));
  out.push(`${name}_bucket{${join('le="+Inf"')}} ${h.count}`);
  out.push(`${name}_sum${labelText ? `{${labelText}}` : ""} ${h.sum}`);
  out.push(`${name}_count${labelText ? `{${labelText}}` : ""} ${h.count}`);
}

/** `a="x",b="y"`, values escaped as the exposition format asks. */
function labels(values: Readonly<Record<string, string>>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`)
    .join(",");
}

function increment(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function histogram(map: Map<string, Histogram>, key: string): Histogram {
  let h = map.get(key);
  if (!h) {
    h = new Histogram();
    map.set(key, h);
  }
  return h;
}

function sorted<T>(map: Map<string, T>): [string, T][] {
  return [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
