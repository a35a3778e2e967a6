import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Application } from "../config/application.js";
import type { Pipeline, PipelineStep } from "../config/pipeline.js";
import { stalled, toFerryError } from "../core/errors.js";
import type { ResourceKey } from "../core/ids.js";
import { parseResourceKey, shortRevision } from "../core/ids.js";
import type { ApplicationStatus } from "../engine/status.js";
import type { HistoryEventInput, Hold } from "../history/types.js";
import type { Artifact, SourceFetcher } from "../source/artifact.js";
import type { CommitIdentity } from "../source/git-writer.js";
import { commitEdits, NothingToCommitError } from "../source/git-writer.js";
import { writePrivateJson } from "../agent/state-dir.js";
import type { EnvironmentObservation } from "./gates.js";
import { evaluateGates } from "./gates.js";
import type { JobRun, JobRunRequest } from "../targets/target.js";
import type { PromotionRecord, PromotionStore, StepRecord, VerificationRecord } from "./promotion-state.js";
import { ACTIVE_PHASES } from "./promotion-state.js";
import { runHttpChecks } from "./http-checks.js";
import type { WatchSpec } from "../watch/watch-spec.js";
import { watchIntervalMs } from "../watch/watch-spec.js";
import type { Watcher } from "../watch/watcher.js";
import type { Bump } from "./write-back.js";
import { applyBumps, promotionMessage, readDirectoryValues } from "./write-back.js";

/** What the controller needs of the agent: applications, their status and sources, holds, the history. */
export interface PromotionHost {
  pipelines(): readonly Pipeline[];
  application(name: string): Application | undefined;
  status(name: string): ApplicationStatus | undefined;
  fetcher(app: Application): SourceFetcher;
  /** The repository and branch an application's files are committed to. */
  repository(app: Application): { readonly url: string; readonly ref: string };
  holds(): Promise<readonly Hold[]>;
  record(event: HistoryEventInput): void;
  /** Rolls an environment back after a failed gate (when the pipeline says so). */
  rollback(application: string, reason: string): Promise<void>;
  /**
   * Starts a run of the application's Job as it synced last, identified by
   * `request.id` (the same id returns the same run); returns the Job's key and the run.
   */
  runJob(application: string, job: string, request: JobRunRequest): Promise<{ readonly key: string; readonly run: JobRun }>;
  /** A run of the Job `key` started by runJob, as it is now. */
  jobRun(application: string, key: string, id: string): Promise<JobRun | undefined>;
  /** Checks an application's source now, so a promotion commit is synced without waiting for a poll. */
  refresh(app: Application): Promise<void>;
  promotionFinished(pipeline: string, environment: string, outcome: "Succeeded" | "Failed", seconds?: number): void;
  /** A step entered a new phase (for notifications); must not block. */
  stepChanged(record: PromotionRecord, index: number): void;
}

/** How the controller is set up. */
export interface PromotionControllerOptions {
  readonly stateDir: string;
  /** Working clones of the repositories written to. */
  readonly workDir: string;
  readonly author?: CommitIdentity;
  readonly signing?: { readonly config: readonly string[]; readonly env?: Readonly<Record<string, string>> };
  readonly createWatcher?: (spec: WatchSpec) => Watcher;
  /** Set when commits must be signed and no key is given: every write fails with this message, nothing is pushed. */
  readonly unsignedRefusal?: string;
  /** How often watchers are asked for a new version, instead of their spec's interval (tests). */
  readonly watchIntervalMs?: number;
  /** How often gates are re-checked (they are also checked on every engine event). */
  readonly tickMs?: number;
  readonly now?: () => number;
}

/** What `ferry promote` asks. */
export interface PromoteRequest {
  /** A pipeline, or an application of one. */
  readonly target: string;
  readonly to: string;
  readonly version?: string;
  /** More marked values to write with the version (`url`, `digest`), as `ferry promote --set field=value` gives them. */
  readonly set?: Readonly<Record<string, string>>;
  readonly by: string;
}

const STATE_FILE = "promotions.json";
const FERRY: CommitIdentity = { name: "Ferry", email: "ferry@localhost" };

/**
 * Moves versions through the environments of every Pipeline: a state machine
 * per pipeline and version, driven by the agent's events and a timer, saved
 * in `<state-dir>/promotions.json` after every change so a restarted agent
 * resumes where it stopped. A step is written only after the previous
 * environment synced the expected values, is healthy, passed verification
 * and soak; it stops at the first failed gate, says why, and records it.
 */
export class PromotionController {
  readonly #host: PromotionHost;
  readonly #options: PromotionControllerOptions;
  readonly #now: () => number;
  #store: PromotionStore = { version: 1, pipelines: {} };
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  #again = false;
  readonly #sources = new Map<string, { readonly spec: string; readonly source: Watcher; next: number; error?: string }>();
  readonly #valueCache = new Map<string, Record<string, string>>();
  readonly #lastWrite = new Map<string, number>();

  constructor(host: PromotionHost, options: PromotionControllerOptions) {
    this.#host = host;
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Loads the saved state and starts checking gates. */
  async start(): Promise<void> {
    try {
      const saved = JSON.parse(await readFile(join(this.#options.stateDir, STATE_FILE), "utf8")) as PromotionStore;
      if (saved.version === 1) this.#store = saved;
    } catch {
      // No saved state: nothing was in flight.
    }
    this.#timer = setInterval(() => this.poke(), this.#options.tickMs ?? 1000);
    this.#timer.unref();
    this.poke();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /** Something changed (a sync finished, a status moved): check the gates soon. Runs are serialized. */
  poke(): void {
    if (this.#again) return;
    this.#again = true;
    this.#running = this.#running.then(async () => {
      this.#again = false;
      try {
        await this.#tick();
      } catch (error) {
        console.error(`promotion: ${toFerryError(error).message}`);
      }
    });
  }

  /**
   * A registry said something was pushed: the pipelines whose watcher `matches`
   * ask it at the next check instead of at their interval (the watcher's
   * backoff after failures still holds). Returns their names.
   */
  watchNow(matches: (spec: WatchSpec) => boolean): string[] {
    const names = this.#host.pipelines().filter((p) => p.watch !== undefined && matches(p.watch)).map((p) => p.name);
    for (const name of names) {
      const entry = this.#sources.get(name);
      if (entry) entry.next = 0;
    }
    if (names.length > 0) this.poke();
    return names;
  }

  /** Waits for the checks asked for so far. */
  async settle(): Promise<void> {
    await this.#running;
  }

  /** Every pipeline's promotion in flight or last finished. */
  promotions(): Readonly<Record<string, PromotionRecord>> {
    return this.#store.pipelines;
  }

  /** The error of a pipeline's watcher, when its last check failed. */
  watchError(pipeline: string): string | undefined {
    return this.#sources.get(pipeline)?.error;
  }

  /** What a pipeline's watcher watches, once it was created. */
  watchDescription(pipeline: string): string | undefined {
    return this.#sources.get(pipeline)?.source.description;
  }

  /** The marked values of every environment of a pipeline at its branch head, for status. */
  async environmentValues(pipeline: Pipeline): Promise<Record<string, Record<string, string> | undefined>> {
    const out: Record<string, Record<string, string> | undefined> = {};
    for (const step of pipeline.steps) {
      const app = this.#host.application(step.application);
      const head = app ? this.#host.fetcher(app).current() : undefined;
      out[step.environment] = app && head ? await this.#valuesAt(head, app, pipeline.name).catch(() => undefined) : undefined;
    }
    return out;
  }

  /**
   * `ferry promote`: into the first environment, a version given by `--version`
   * (a new promotion); into a later one, the version that passed the
   * environment before it, when that step waits for a manual promotion.
   */
  async promote(request: PromoteRequest): Promise<PromotionRecord> {
    const pipeline = this.#pipelineOf(request.target);
    const index = pipeline.steps.findIndex((s) => s.environment === request.to);
    if (index === -1) throw stalled("UnknownEnvironment", `pipeline ${pipeline.name} has no environment ${JSON.stringify(request.to)}: it has ${pipeline.steps.map((s) => s.environment).join(", ")}`);
    return this.#serialized(async () => {
      const current = this.#store.pipelines[pipeline.name];
      if (index === 0) return this.#begin(pipeline, await this.#entryValues(pipeline, request), request.by);
      const before = pipeline.steps[index - 1];
      if (!current || !before) throw stalled("NothingToPromote", `nothing to promote into ${request.to}: no version has passed ${before?.environment ?? "the environment before it"} yet`);
      if (request.version !== undefined && request.version !== current.version) {
        throw stalled("VersionNotReady", `version ${request.version} is not the one in flight in ${pipeline.name} (${current.version}): it has not passed ${before.environment}`);
      }
      const previous = current.steps[index - 1];
      const step = current.steps[index];
      if (previous?.phase !== "Passed") {
        throw stalled("GateNotPassed", `${current.version} has not passed ${before.environment} (${previous?.phase ?? "Waiting"}${previous?.message ? `: ${previous.message}` : ""}): nothing is promoted past a gate that did not pass`);
      }
      if (step?.phase === "AwaitingApproval") throw stalled("ApprovalRequired", `${request.to} needs an approval: ferry approve ${pipeline.name} --env ${request.to}`);
      if (step?.phase === "Held") throw stalled("Held", `${step.application} is on hold (${step.message ?? "rolled back"}): ferry release ${step.application} first`);
      if (step?.phase !== "AwaitingPromotion") throw stalled("NotWaiting", `${current.version} in ${request.to} is ${step?.phase ?? "Waiting"}: there is nothing to promote`);
      return this.#update(pipeline.name, index, { phase: "Writing", message: `promoted by ${request.by}`, approvedBy: request.by, approvedAt: this.#iso() });
    });
  }

  /** `ferry approve`: lets the version waiting for approval into an environment. */
  async approve(pipelineName: string, environment: string, by: string): Promise<PromotionRecord> {
    const pipeline = this.#pipelineOf(pipelineName);
    const index = pipeline.steps.findIndex((s) => s.environment === environment);
    if (index === -1) throw stalled("UnknownEnvironment", `pipeline ${pipeline.name} has no environment ${JSON.stringify(environment)}`);
    return this.#serialized(async () => {
      const current = this.#store.pipelines[pipeline.name];
      const step = current?.steps[index];
      if (!current || step?.phase !== "AwaitingApproval") {
        throw stalled("NotWaiting", `nothing waits for approval in ${environment}${step ? ` (${current?.version ?? ""} is ${step.phase})` : ""}`);
      }
      const at = this.#iso();
      this.#host.record({
        type: "Approval",
        at,
        application: step.application,
        environment,
        versions: [current.version],
        author: by,
        outcome: "Succeeded",
        message: `${by} approved ${pipeline.name} ${current.version} into ${environment}`,
        details: { pipeline: pipeline.name, to: environment },
      });
      return this.#update(pipeline.name, index, { phase: "Writing", message: `approved by ${by}`, approvedBy: by, approvedAt: at });
    });
  }

  #serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#running.then(work);
    this.#running = run.then(
      () => undefined,
      () => undefined,
    );
    return run.then(async (result) => {
      this.poke();
      await this.#save();
      return result;
    });
  }

  /**
   * The values a manual promotion writes into the first environment: the
   * watcher's newest version with its URL and digest, or the version given
   * with the values given by `--set`. Refused when the environment marks
   * values (a URL, a digest) that nobody gave: writing the version alone
   * would run the old artifact under the new version's name.
   */
  async #entryValues(pipeline: Pipeline, request: PromoteRequest): Promise<Record<string, string>> {
    const found = request.version === undefined || Object.keys(request.set ?? {}).length === 0 ? await this.#latest(pipeline).catch(() => undefined) : undefined;
    const to = request.to;
    if (request.version === undefined) {
      if (!found) throw stalled("NoVersion", `give the version to promote into ${to}: --version <v>${pipeline.watch ? " (the watcher found none)" : ""}`);
      return { ...found, ...request.set };
    }
    const values: Record<string, string> = found?.["version"] === request.version ? { ...found, ...request.set } : { ...request.set, version: request.version };
    const first = pipeline.steps[0];
    const app = first ? this.#host.application(first.application) : undefined;
    const head = app ? this.#host.fetcher(app).current() : undefined;
    const marked = app && head ? Object.keys(await this.#valuesAt(head, app, pipeline.name)) : [];
    const missing = marked.filter((field) => !(field in values)).sort();
    if (missing.length > 0) {
      const newest = found?.["version"] !== undefined ? `; the watcher's newest is ${found["version"]}` : "";
      throw stalled(
        "VersionNotFound",
        `${to} marks ${missing.join(", ")} besides the version, and nothing says what they are for ${request.version}${newest}: give them with ${missing.map((f) => `--set ${f}=...`).join(" ")}`,
      );
    }
    return values;
  }

  #pipelineOf(target: string): Pipeline {
    const pipelines = this.#host.pipelines();
    const found = pipelines.find((p) => p.name === target) ?? pipelines.find((p) => p.steps.some((s) => s.application === target));
    if (!found) throw stalled("UnknownPipeline", `no pipeline ${JSON.stringify(target)} and no pipeline moves an application of that name`);
    return found;
  }

  async #latest(pipeline: Pipeline): Promise<Record<string, string> | undefined> {
    const source = this.#sourceOf(pipeline);
    const found = source ? await source.latest(AbortSignal.timeout(30_000)) : undefined;
    return found ? valuesOf(found) : undefined;
  }

  #begin(pipeline: Pipeline, values: Readonly<Record<string, string>>, by: string): PromotionRecord {
    const at = this.#iso();
    const record: PromotionRecord = {
      pipeline: pipeline.name,
      version: values["version"] ?? "",
      values,
      startedAt: at,
      startedBy: by,
      steps: pipeline.steps.map((s, i) => ({
        environment: s.environment,
        application: s.application,
        phase: i === 0 ? "Writing" : "Waiting",
        since: at,
        ...(i === 0 ? { message: `new version from ${by}` } : {}),
      })),
    };
    this.#store = { ...this.#store, pipelines: { ...this.#store.pipelines, [pipeline.name]: record } };
    return record;
  }

  #update(pipeline: string, index: number, change: Partial<StepRecord>): PromotionRecord {
    const record = this.#store.pipelines[pipeline];
    if (!record) throw new Error(`no promotion of ${pipeline}`);
    const steps = record.steps.map((s, i) => {
      if (i !== index) return s;
      const phaseChanged = change.phase !== undefined && change.phase !== s.phase;
      const merged = { ...s, ...change, ...(phaseChanged ? { since: this.#iso() } : {}) };
      // A field given as undefined is removed (a new version's write forgets the last version's run).
      for (const [field, value] of Object.entries(change)) if (value === undefined) delete (merged as Record<string, unknown>)[field];
      // A reason belongs to the phase that gave it.
      if (phaseChanged && change.reason === undefined) delete (merged as { reason?: string }).reason;
      return merged;
    });
    const failed = steps.some((s) => s.phase === "Failed");
    const done = steps.every((s) => s.phase === "Passed");
    const next: PromotionRecord = {
      ...record,
      steps,
      ...(failed || done ? { outcome: failed ? ("Failed" as const) : ("Succeeded" as const), finishedAt: record.finishedAt ?? this.#iso() } : {}),
    };
    this.#store = { ...this.#store, pipelines: { ...this.#store.pipelines, [pipeline]: next } };
    if (change.phase !== undefined && change.phase !== record.steps[index]?.phase) this.#host.stepChanged(next, index);
    return next;
  }

  async #save(): Promise<void> {
    await writePrivateJson(this.#options.stateDir, STATE_FILE, this.#store);
  }

  #iso(): string {
    return new Date(this.#now()).toISOString();
  }

  async #tick(): Promise<void> {
    const before = JSON.stringify(this.#store);
    const pipelines = this.#host.pipelines();
    // Pipelines gone from the configuration are forgotten.
    const names = new Set(pipelines.map((p) => p.name));
    if (Object.keys(this.#store.pipelines).some((n) => !names.has(n))) {
      this.#store = { ...this.#store, pipelines: Object.fromEntries(Object.entries(this.#store.pipelines).filter(([n]) => names.has(n))) };
    }
    const holds = new Map((await this.#host.holds()).map((h) => [h.application, h.reason]));
    const writes: { pipeline: Pipeline; index: number; bump: Bump }[] = [];
    for (const pipeline of pipelines) {
      await this.#watch(pipeline);
      const write = await this.#advance(pipeline, holds);
      if (write) writes.push(write);
    }
    if (writes.length > 0) await this.#write(writes);
    if (JSON.stringify(this.#store) !== before) await this.#save();
  }

  #sourceOf(pipeline: Pipeline): Watcher | undefined {
    if (!pipeline.watch || !this.#options.createWatcher) return undefined;
    const spec = JSON.stringify(pipeline.watch);
    const known = this.#sources.get(pipeline.name);
    if (known && known.spec === spec) return known.source;
    const source = this.#options.createWatcher(pipeline.watch);
    this.#sources.set(pipeline.name, { spec, source, next: 0 });
    return source;
  }

  /** Asks the pipeline's watcher, when due, and starts a promotion of a version not seen yet. */
  async #watch(pipeline: Pipeline): Promise<void> {
    let source: Watcher | undefined;
    try {
      source = this.#sourceOf(pipeline);
    } catch (error) {
      console.error(`pipeline ${pipeline.name}: watch: ${toFerryError(error).message}`);
      return;
    }
    const entry = this.#sources.get(pipeline.name);
    if (!source || !entry || this.#now() < entry.next) return;
    entry.next = this.#now() + (this.#options.watchIntervalMs ?? (pipeline.watch ? watchIntervalMs(pipeline.watch) : 300_000));
    let found;
    try {
      found = await source.latest(AbortSignal.timeout(30_000));
      delete entry.error;
    } catch (error) {
      const message = toFerryError(error).message;
      // Told once per distinct failure, not at every poll.
      if (entry.error !== message) console.error(`pipeline ${pipeline.name}: watch failed: ${message}`);
      entry.error = message;
      return;
    }
    if (!found || this.#store.discovered?.[pipeline.name] === found.version) return;
    this.#store = { ...this.#store, discovered: { ...this.#store.discovered, [pipeline.name]: found.version } };
    const current = this.#store.pipelines[pipeline.name];
    if (current?.version === found.version) return;
    const first = pipeline.steps[0];
    const app = first ? this.#host.application(first.application) : undefined;
    const head = app ? this.#host.fetcher(app).current() : undefined;
    // Already there (written by hand, or by an earlier run): nothing to open.
    if (!current && app && head && (await this.#valuesAt(head, app, pipeline.name).catch(() => undefined))?.["version"] === found.version) return;
    this.#begin(pipeline, valuesOf(found), "watch");
  }

  /** Moves one pipeline's promotion as far as its gates allow; returns the write it needs, if any. */
  async #advance(pipeline: Pipeline, holds: ReadonlyMap<string, string>): Promise<{ pipeline: Pipeline; index: number; bump: Bump } | undefined> {
    for (let index = 0; index < pipeline.steps.length; index++) {
      const record = this.#store.pipelines[pipeline.name];
      const step = pipeline.steps[index];
      const state = record?.steps[index];
      if (!record || !step || !state || state.environment !== step.environment) return undefined;
      if (state.phase === "Passed") continue;
      if (state.phase === "Failed") return undefined;
      const held = holds.get(step.application);
      if (state.phase === "Waiting" || state.phase === "Held" || state.phase === "AwaitingApproval" || state.phase === "AwaitingPromotion" || (state.phase === "Writing" && held !== undefined)) {
        if (held !== undefined) {
          const message = `${step.application} is on hold: ${held} (ferry release ${step.application})`;
          if (state.phase !== "Held") console.log(`pipeline ${pipeline.name}: ${record.version} waits in front of ${step.environment}: ${message}`);
          this.#update(pipeline.name, index, { phase: "Held", reason: "Held", message });
          return undefined;
        }
        if (state.phase === "Held" || state.phase === "Waiting") {
          const phase = state.approvedAt !== undefined ? "Writing" : step.approval ? "AwaitingApproval" : step.promotion === "manual" ? "AwaitingPromotion" : "Writing";
          const message =
            phase === "AwaitingApproval" ? `waiting for approval: ferry approve ${pipeline.name} --env ${step.environment}` : phase === "AwaitingPromotion" ? `waiting for ferry promote ${pipeline.name} --to ${step.environment}` : "writing";
          this.#update(pipeline.name, index, { phase, message });
          if (phase !== "Writing") {
            console.log(`pipeline ${pipeline.name}: ${record.version} ${message}`);
            return undefined;
          }
        } else if (state.phase !== "Writing") return undefined;
      }
      const current = this.#store.pipelines[pipeline.name]?.steps[index];
      if (current?.phase === "Writing") return this.#writeRequest(pipeline, index);
      if (!current || !ACTIVE_PHASES.includes(current.phase)) return undefined;
      if (!(await this.#check(pipeline, step, index, record))) return undefined;
    }
    return undefined;
  }

  /** Checks the gates of one active step; true when it passed and the next step may go. */
  async #check(pipeline: Pipeline, step: PipelineStep, index: number, record: PromotionRecord): Promise<boolean> {
    const state = record.steps[index];
    if (!state) return false;
    let observation = await this.#observe(pipeline, step, state);
    let verdict = evaluateGates(step, state, record.values, observation, this.#now());
    if (verdict.kind === "wait" && verdict.startRun) {
      const run = await this.#startRun(pipeline, step, index, record, state);
      if (typeof run === "string") verdict = { kind: "wait", phase: "Verifying", message: run };
      else {
        observation = { ...observation, run };
        verdict = evaluateGates(step, this.#store.pipelines[pipeline.name]?.steps[index] ?? state, record.values, observation, this.#now());
      }
    }
    if (verdict.kind === "wait" && verdict.runHttp) {
      observation = { ...observation, http: await runHttpChecks(step.verify.http) };
      verdict = evaluateGates(step, state, record.values, observation, this.#now());
    }
    const base = { application: step.application, environment: step.environment, versions: [record.version], ...(state.commit ? { revision: state.commit } : {}) };
    const verification = this.#store.pipelines[pipeline.name]?.steps[index]?.verification;
    const run = verification && verdict.kind !== "wait" && verdict.gate === "verify" ? { run: runDetails(verification) } : {};
    const seconds = state.writtenAt ? (this.#now() - Date.parse(state.writtenAt)) / 1000 : undefined;
    if (verdict.kind === "fail") {
      this.#update(pipeline.name, index, { phase: "Failed", reason: verdict.reason, message: verdict.message });
      this.#host.record({ type: "PromotionGate", at: this.#iso(), ...base, outcome: "Failed", reason: verdict.reason, message: verdict.message, details: { pipeline: pipeline.name, gate: verdict.gate, ...run } });
      this.#host.promotionFinished(pipeline.name, step.environment, "Failed", seconds);
      console.error(`pipeline ${pipeline.name}: ${record.version} stopped in ${step.environment}: ${verdict.message}`);
      if (step.onFailure === "rollback") {
        try {
          await this.#host.rollback(step.application, `${pipeline.name} ${record.version} failed in ${step.environment}: ${verdict.message}`);
          this.#update(pipeline.name, index, { rolledBack: this.#iso() });
        } catch (error) {
          this.#update(pipeline.name, index, { message: `${verdict.message}; rollback failed: ${toFerryError(error).message}` });
        }
      }
      return false;
    }
    if (verdict.kind === "wait") {
      // A merged pull request starts the clock of the sync gate.
      const merged = state.phase === "AwaitingMerge" && verdict.phase === "Syncing" ? { writtenAt: this.#iso() } : {};
      if (verdict.phase !== state.phase || verdict.message !== state.message) this.#update(pipeline.name, index, { phase: verdict.phase, message: verdict.message, ...merged });
      return false;
    }
    const updated = this.#update(pipeline.name, index, { phase: verdict.phase, message: verdict.message, ...(verdict.gate === "verify" || verdict.phase === "Soaking" ? { verifiedAt: this.#iso() } : {}) });
    this.#host.record({ type: "PromotionGate", at: this.#iso(), ...base, outcome: "Succeeded", reason: "GatePassed", message: verdict.message, details: { pipeline: pipeline.name, gate: verdict.gate, ...run } });
    console.log(`pipeline ${pipeline.name}: ${record.version} passed the ${verdict.gate} gate of ${step.environment}: ${verdict.message}`);
    // The next gate may hold already (phases only move forward, so this ends).
    if (verdict.phase !== "Passed") return this.#check(pipeline, step, index, updated);
    this.#host.promotionFinished(pipeline.name, step.environment, "Succeeded", seconds);
    return true;
  }

  /**
   * Starts the run of the step's verification job for this version (again,
   * under a new id, when the last one was lost), after the version synced and
   * became healthy. A run refused for good (no such Job) is a failed one;
   * one that could not start for now (the cluster did not answer) is tried
   * again at the next check, until the step's timeout: what it returns then
   * is the reason, for the step's message.
   */
  async #startRun(pipeline: Pipeline, step: PipelineStep, index: number, record: PromotionRecord, state: StepRecord): Promise<VerificationRecord | string> {
    const job = step.verify.job ?? "";
    const attempt = (state.verification?.attempt ?? 0) + 1;
    const runId = verificationRunId(pipeline.name, step.environment, record.version, state.writtenAt ?? state.since, attempt);
    const env = { FERRY_PIPELINE: pipeline.name, FERRY_ENVIRONMENT: step.environment, FERRY_VERSION: record.version, FERRY_RUN_ID: runId };
    let verification: VerificationRecord;
    try {
      const { key, run } = await this.#host.runJob(step.application, job, { id: runId, env });
      verification = { job, runId, key, attempt, ...verificationOf(run) };
      console.log(`pipeline ${pipeline.name}: ${record.version} in ${step.environment}: started smoke test job ${job} (run ${runId})`);
    } catch (error) {
      const failure = toFerryError(error);
      const message = `could not start: ${failure.message}`;
      if (failure.disposition !== "stalled") return `smoke test job ${job} ${message}; trying again`;
      verification = { job, runId, key: "", name: "", attempt, status: "failed", startedAt: this.#iso(), finishedAt: this.#iso(), message };
    }
    this.#update(pipeline.name, index, { verification });
    return verification;
  }

  async #observe(pipeline: Pipeline, step: PipelineStep, state: StepRecord): Promise<EnvironmentObservation> {
    const app = this.#host.application(step.application);
    const status = this.#host.status(step.application);
    if (!app || !status) return { ready: false, health: { status: "Unknown", message: `application ${step.application} is not loaded` } };
    const fetcher = this.#host.fetcher(app);
    const at = async (revision: string | undefined): Promise<Record<string, string> | undefined> => {
      if (!revision) return undefined;
      try {
        return await this.#valuesAt(await fetcher.artifactAt(revision), app, pipeline.name);
      } catch {
        return undefined;
      }
    };
    const head = fetcher.current();
    const headValues = head ? await this.#valuesAt(head, app, pipeline.name).catch(() => undefined) : undefined;
    const syncedValues = status.sync.status === "Synced" ? await at(status.sync.revision) : undefined;
    const last = status.lastSync;
    const lastValues = last ? await at(last.revision) : undefined;
    const job = step.verify.job !== undefined ? status.inventory.find((e) => isVerifyJob(e.key, step.verify.job ?? "")) : undefined;
    const run = await this.#readRun(pipeline, step, state);
    return {
      ...(run ? { run } : {}),
      ...(headValues ? { headValues } : {}),
      ...(syncedValues ? { syncedValues } : {}),
      ...(last && lastValues ? { lastSync: { values: lastValues, outcome: last.outcome, message: last.message } } : {}),
      ready: status.conditions.some((c) => c.type === "Ready" && c.status === "True"),
      health: status.health,
      ...(job ? { job: job.health } : {}),
    };
  }

  /** The step's verification run as the target has it now, kept in the step's record when it moved. */
  async #readRun(pipeline: Pipeline, step: PipelineStep, state: StepRecord): Promise<VerificationRecord | undefined> {
    const known = state.verification;
    if (!known || known.status !== "running" || state.phase !== "Verifying") return known;
    let run: JobRun | undefined;
    try {
      run = await this.#host.jobRun(step.application, known.key, known.runId);
    } catch {
      return known;
    }
    const now: VerificationRecord = run ? { ...known, ...verificationOf(run) } : { ...known, status: "lost", message: "the run is gone" };
    if (JSON.stringify(now) !== JSON.stringify(known)) {
      const index = pipeline.steps.indexOf(step);
      this.#update(pipeline.name, index, { verification: now });
    }
    return now;
  }

  async #valuesAt(artifact: Artifact, app: Application, pipeline: string): Promise<Record<string, string>> {
    const key = `${artifact.revision}\0${app.spec.source.path}\0${pipeline}`;
    const cached = this.#valueCache.get(key);
    if (cached) return cached;
    const values = await readDirectoryValues(artifact.directory, app.spec.source.path, pipeline);
    if (this.#valueCache.size > 1000) this.#valueCache.clear();
    this.#valueCache.set(key, values);
    return values;
  }

  /** The bump a Writing step needs: the new version's values, or those the environment before it passed with. */
  #writeRequest(pipeline: Pipeline, index: number): { pipeline: Pipeline; index: number; bump: Bump } | undefined {
    const record = this.#store.pipelines[pipeline.name];
    const step = pipeline.steps[index];
    const app = step ? this.#host.application(step.application) : undefined;
    if (!record || !step || !app) return undefined;
    const from = index > 0 ? pipeline.steps[index - 1]?.environment : undefined;
    return {
      pipeline,
      index,
      bump: { pipeline: pipeline.name, environment: step.environment, path: app.spec.source.path, values: record.values, version: record.version, ...(from !== undefined ? { from } : {}) },
    };
  }

  /**
   * Commits the bumps: one commit per repository and branch for those pushed
   * straight to it (many bumps, one commit), one branch each for pull
   * requests; a pipeline writes at most once per `write.minInterval`.
   */
  async #write(writes: readonly { pipeline: Pipeline; index: number; bump: Bump }[]): Promise<void> {
    const now = this.#now();
    const due = writes.filter((w) => {
      const last = this.#lastWrite.get(w.pipeline.name);
      const wait = last === undefined ? 0 : last + w.pipeline.write.minIntervalMs - now;
      if (wait > 0) this.#update(w.pipeline.name, w.index, { message: `writing in ${Math.ceil(wait / 1000)}s (write.minInterval)` });
      return wait <= 0;
    });
    const groups = new Map<string, { app: Application; items: { pipeline: Pipeline; index: number; bump: Bump }[] }>();
    for (const w of due) {
      const app = this.#host.application(w.bump.environment === "" ? "" : (w.pipeline.steps[w.index]?.application ?? ""));
      if (!app) continue;
      const { url, ref } = this.#host.repository(app);
      const key = w.pipeline.write.mode === "pull-request" ? `${url}\0${ref}\0${w.pipeline.name}\0${w.index}` : `${url}\0${ref}`;
      const group = groups.get(key) ?? { app, items: [] };
      group.items.push(w);
      groups.set(key, group);
    }
    for (const { app, items } of groups.values()) await this.#commit(app, items);
  }

  async #commit(app: Application, items: readonly { pipeline: Pipeline; index: number; bump: Bump }[]): Promise<void> {
    const { url, ref } = this.#host.repository(app);
    const bumps = items.map((i) => i.bump);
    const first = items[0];
    const pullRequest = first?.pipeline.write.mode === "pull-request";
    const branch = pullRequest && first ? `ferry/promote/${first.pipeline.name}/${first.bump.environment}-${safeRefPart(first.bump.version)}` : undefined;
    const at = this.#iso();
    let commit: string | undefined;
    let failure: { reason: string; message: string } | undefined;
    try {
      if (this.#options.unsignedRefusal !== undefined) throw stalled("PromotionNotSigned", this.#options.unsignedRefusal);
      const result = await commitEdits({
        url,
        ref,
        message: promotionMessage(bumps),
        author: this.#options.author ?? FERRY,
        workDir: this.#options.workDir,
        edit: (dir) => applyBumps(dir, bumps),
        ...(branch !== undefined ? { pushBranch: branch } : {}),
        ...(this.#options.signing ? { signing: this.#options.signing } : {}),
      });
      commit = result.commit;
    } catch (error) {
      if (!(error instanceof NothingToCommitError)) {
        const e = toFerryError(error);
        failure = { reason: e.reason === "PushRejected" ? "PushRejected" : e.reason, message: `could not write ${bumps.map((b) => b.environment).join(", ")}: ${e.message}` };
      }
    }
    for (const { pipeline, index, bump } of items) {
      this.#lastWrite.set(pipeline.name, this.#now());
      const step = pipeline.steps[index];
      const base = { at, application: step?.application ?? "", environment: bump.environment, versions: [bump.version], author: (this.#options.author ?? FERRY).name };
      const details = { pipeline: pipeline.name, ...(bump.from !== undefined ? { from: bump.from } : {}), to: bump.environment, values: bump.values, ...(branch ? { branch } : {}) };
      if (failure) {
        this.#update(pipeline.name, index, { phase: "Failed", reason: failure.reason, message: failure.message });
        this.#host.record({ type: "Promotion", ...base, outcome: "Failed", reason: failure.reason, message: failure.message, details });
        this.#host.promotionFinished(pipeline.name, bump.environment, "Failed");
        continue;
      }
      const what = `${pipeline.name} ${bump.version} ${bump.from !== undefined ? `from ${bump.from} to ${bump.environment}` : `into ${bump.environment}`}`;
      const message = commit ? `promoted ${what} in ${shortRevision(commit)}${branch ? ` on branch ${branch}` : ""}` : `${bump.environment} already has ${bump.version}`;
      this.#update(pipeline.name, index, { phase: branch ? "AwaitingMerge" : "Syncing", writtenAt: at, message, verification: undefined, ...(commit ? { commit } : {}), ...(branch ? { branch } : {}) });
      console.log(`pipeline ${pipeline.name}: ${message}`);
      this.#host.record({ type: "Promotion", ...base, ...(commit ? { revision: commit } : {}), outcome: "Succeeded", reason: "Promoted", message, subject: promotionMessage([bump]).split("\n")[0] ?? "", details });
    }
    await this.#host.refresh(app).catch(() => undefined);
  }
}

/** A run id: the version as letters and digits, and a hash of pipeline, environment, version, write time and attempt. */
function verificationRunId(pipeline: string, environment: string, version: string, writtenAt: string, attempt: number): string {
  const readable = version.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 12).replace(/-+$/, "");
  const hash = createHash("sha256").update(`${pipeline}\0${environment}\0${version}\0${writtenAt}\0${attempt}`).digest("hex").slice(0, 6);
  return readable === "" ? `run-${hash}` : `${readable}-${hash}`;
}

function verificationOf(run: JobRun): Pick<VerificationRecord, "name" | "status" | "startedAt" | "finishedAt" | "message" | "output"> {
  return {
    name: run.name,
    status: run.status,
    startedAt: run.startedAt,
    message: run.message,
    ...(run.finishedAt !== undefined ? { finishedAt: run.finishedAt } : {}),
    ...(run.output !== undefined ? { output: run.output } : {}),
  };
}

/** What the history keeps of a verification run. */
function runDetails(run: VerificationRecord): Record<string, string> {
  return { job: run.job, id: run.runId, name: run.name, status: run.status, startedAt: run.startedAt, message: run.message, ...(run.output !== undefined ? { output: run.output } : {}) };
}

function valuesOf(found: { readonly version: string; readonly digest?: string; readonly url?: string }): Record<string, string> {
  return { version: found.version, ...(found.digest !== undefined ? { digest: found.digest } : {}), ...(found.url !== undefined ? { url: found.url } : {}) };
}

/** A version as part of a branch name: what git allows, nothing more. */
function safeRefPart(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]/g, "-").replace(/\.+/g, ".").replace(/^[.-]+|[.-]+$/g, "") || "version";
}

/** True for the key of a Job of that name, of whichever target, in whichever namespace the application puts it. */
function isVerifyJob(key: ResourceKey, job: string): boolean {
  const ref = parseResourceKey(key);
  return ref.kind === "Job" && ref.name === job;
}
