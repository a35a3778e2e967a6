import { setCondition } from "../core/conditions.js";
import { stalled, toFerryError } from "../core/errors.js";
import type { ResourceKey } from "../core/ids.js";
import type { Application } from "../config/application.js";
import type { PolicyRule } from "../config/policy.js";
import { targetKey } from "../config/application.js";
import type { ObjectDiff } from "../diff/diff-objects.js";
import { diffObjects } from "../diff/diff-objects.js";
import { planSync } from "../plan/plan-sync.js";
import { PLANNING_ORDER } from "../targets/registry.js";
import type { Artifact, SourceFetcher } from "../source/artifact.js";
import type { JobRun, JobRunRequest, LiveChange, Target } from "../targets/target.js";
import type { AppRecord, RecordStore } from "./app-record.js";
import { newRecord } from "./app-record.js";
import type { EngineEvent, EngineListener, ReconcileStage } from "./events.js";
import { EventBus } from "./events.js";
import type { LiveSeal, ReconcileInput, ReconcileResult, RunInputs, SyncRequest } from "./reconcile.js";
import type { Revision } from "../core/ids.js";
import { normalizeDir } from "../render/load-source.js";
import { reconcileApplication, sealLive } from "./reconcile.js";
import { helmOptionsOf } from "../render/render-source.js";
import { describeStage, explainStage, prepareStage, renderStage, validateStage } from "./stages.js";
import type { ApplicationStatus, Trigger } from "./status.js";
import type { Suspension } from "./status.js";
import { describeSuspension } from "./status.js";
import { withSuspension } from "./lifecycle.js";
import { WorkQueue } from "./work-queue.js";
import type { TargetCallObserver } from "./observed-target.js";
import type { AgeIdentity } from "../secrets/age.js";
import { observeTargetCalls } from "./observed-target.js";
import { erroredStatus, finishRun, refusedRecord, removeApplication, waitingStatus, withoutRetry, withRetry } from "./lifecycle.js";

/** What the engine is built from: targets, sources and a record store. */
export interface EngineOptions {
  readonly targets: ReadonlyMap<string, Target>;
  /** The shared fetcher of an application's (repository, ref). */
  readonly fetcherFor: (application: Application) => SourceFetcher;
  readonly store: RecordStore;
  readonly now?: () => Date;
  /**
   * Applications of one target reconciled at once (default 4; one application
   * is never run by two workers). Each target has its own workers, so a
   * cluster that never answers holds only its own applications.
   */
  readonly concurrency?: number;
  /** How long a run waits for applied objects to become healthy. */
  readonly healthTimeoutMs?: number;
  /** Share of an application's objects one sync may delete without an override (default one half). */
  readonly maxDeleteShare?: number;
  /** Backoff after transient failures. */
  readonly retry?: { readonly baseMs: number; readonly maxMs: number };
  /** Keys that decrypt encrypted content in Git (age identities; SOPS files encrypted with age). */
  readonly ageIdentities?: readonly AgeIdentity[];
  /** Told about every call the engine makes to a target (metrics count them per target and verb). */
  readonly observeTargetCall?: TargetCallObserver;
}

/** What a sync at some artifact would do: objects created, changed and pruned; orphans the policy keeps. */
export interface SyncPreview {
  /** `missing` (created), `changed`, and `orphan` only for objects a sync would prune. */
  readonly diffs: readonly ObjectDiff[];
  /** Live objects that left Git but stay (pruning is off, or `ferry.dev/prune: disabled`). */
  readonly kept: readonly ResourceKey[];
}

/** Priority of triggers when several queued up for one run: the first listed names the run. */
const TRIGGER_PRIORITY: readonly Trigger[] = ["manual", "revision", "config", "drift", "dependency", "refresh", "retry", "startup", "interval"];

/**
 * The outer loop: holds the applications, takes every trigger (timer, new
 * revision, refresh, drift, dependency ready, manual sync) into one queue and
 * runs each application through `reconcileApplication`, one worker per application.
 */
export class Engine {
  readonly #options: EngineOptions;
  readonly #targets: ReadonlyMap<string, Target>;
  readonly #now: () => Date;
  readonly #bus = new EventBus();
  readonly #queue: WorkQueue<Trigger>;
  readonly #apps = new Map<string, Application>();
  /** The applications that depend on each one, so one becoming Ready looks only at those. */
  #dependents = new Map<string, readonly string[]>();
  readonly #records = new Map<string, AppRecord>();
  readonly #progress = new Map<string, string>();
  #policies: readonly PolicyRule[] = [];
  readonly #manual = new Map<string, { request: SyncRequest; waiters: ((status: ApplicationStatus) => void)[] }>();
  readonly #failures = new Map<string, number>();
  readonly #unwatch: (() => void)[] = [];
  readonly #suspensions = new Map<string, Suspension>();
  /** What each application's last full run read, and the newest revision proven to change none of it. */
  readonly #inputs = new Map<string, RunInputs & { readonly current: Revision }>();
  /** The live state each application's last full run found or left in sync and healthy, at the revision of its inputs. */
  readonly #sealed = new Map<string, LiveSeal & { readonly revision: Revision }>();
  #renders = 0;
  #unchanged = 0;
  #verified = 0;
  #started = false;

  constructor(options: EngineOptions) {
    this.#options = options;
    const observe = options.observeTargetCall;
    this.#targets = observe ? new Map([...options.targets].map(([name, target]) => [name, observeTargetCalls(target, observe)])) : options.targets;
    this.#now = options.now ?? (() => new Date());
    this.#queue = new WorkQueue((name, triggers) => this.#run(name, triggers), options.concurrency ?? 4, (name) => this.#targetOf(name));
  }

  /** Loads saved records and starts watching targets for drift. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    for (const record of await this.#options.store.list()) this.#records.set(record.name, record);
    for (const target of this.#targets.values()) this.#unwatch.push(target.watch((change) => this.#onLiveChange(change)));
  }

  /** Stops timers and watches; runs in progress finish. */
  async stop(): Promise<void> {
    this.#queue.stop();
    for (const unwatch of this.#unwatch.splice(0)) unwatch();
    await this.#queue.whenIdle();
  }

  /** Tells listeners about the configuration the applications came from. */
  reportConfig(event: Extract<EngineEvent, { type: "ConfigLoaded" | "ConfigRejected" }>): void {
    this.#bus.emit(event);
  }

  /** Adds a listener of engine events; returns its removal. */
  subscribe(listener: EngineListener): () => void {
    return this.#bus.subscribe(listener);
  }

  /**
   * Replaces the set of applications (from a valid configuration). New and
   * changed ones run; ones that left Git are removed, pruning their objects
   * when their policy prunes.
   */
  setApplications(applications: readonly Application[], options: { readonly run?: boolean; readonly policies?: readonly PolicyRule[] } = {}): void {
    const run = options.run ?? true;
    const next = new Map(applications.map((a) => [a.name, a]));
    const dependents = new Map<string, string[]>();
    for (const a of applications) for (const d of a.spec.dependsOn) dependents.set(d, [...(dependents.get(d) ?? []), a.name]);
    this.#dependents = dependents;
    // Set first: a run queued below may read them at once.
    const rulesChanged = options.policies !== undefined && this.#replacePolicies(options.policies);
    for (const name of [...this.#apps.keys(), ...this.#records.keys()]) {
      if (!next.has(name)) {
        this.#apps.delete(name);
        if (run) this.#queue.add(name, "config");
      }
    }
    for (const [name, app] of next) {
      const previous = this.#apps.get(name);
      this.#apps.set(name, app);
      if (!run) continue;
      if (!previous) this.#queue.add(name, this.#records.has(name) ? "startup" : "config");
      else if (JSON.stringify(previous.spec) !== JSON.stringify(app.spec)) {
        // A changed spec (another path, an override annotation) is new input even at the revision that stalled.
        const record = this.#records.get(name);
        if (record?.stalledOn) this.#records.set(name, { ...record, stalledOn: undefined });
        this.#queue.add(name, "config");
      }
    }
    if (rulesChanged && run) for (const name of this.#apps.keys()) this.#queue.add(name, "config");
  }

  /**
   * Rules every rendered object must follow. Changed rules are new input for
   * every application, even one stalled on its revision by the old rules;
   * returns whether they changed.
   */
  #replacePolicies(policies: readonly PolicyRule[]): boolean {
    const comparable = (rules: readonly PolicyRule[]): string => JSON.stringify(rules.map(({ origin: _origin, ...rule }) => rule));
    if (comparable(policies) === comparable(this.#policies)) return false;
    this.#policies = policies;
    for (const [name, record] of this.#records) if (record.stalledOn) this.#records.set(name, { ...record, stalledOn: undefined });
    return true;
  }

  /** The applications currently configured. */
  applications(): readonly Application[] {
    return [...this.#apps.values()];
  }

  /** One configured application by name (without copying the list: a history event asks for each). */
  application(name: string): Application | undefined {
    return this.#apps.get(name);
  }

  /** Queues a run of one application. */
  enqueue(name: string, trigger: Trigger): void {
    if (this.#apps.has(name)) this.#queue.add(name, trigger);
  }

  /** Queues every application that reads from this fetcher (it found a new revision). */
  sourceChanged(fetcher: SourceFetcher): void {
    for (const app of this.#apps.values()) if (this.#options.fetcherFor(app) === fetcher) this.#queue.add(app.name, "revision");
  }

  /**
   * Suspends an application at runtime (with a suspension) or resumes it
   * (with undefined), and runs it so its status says so (unless `run` is
   * false); a resumed application applies what it held back.
   */
  setSuspension(name: string, suspension: Suspension | undefined, options: { readonly run?: boolean } = {}): void {
    if (suspension) this.#suspensions.set(name, suspension);
    else this.#suspensions.delete(name);
    if (options.run ?? true) this.enqueue(name, "config");
  }

  /** The runtime suspension of an application, if any. */
  suspension(name: string): Suspension | undefined {
    return this.#suspensions.get(name);
  }

  /** Runs a sync a person asked for and resolves with the status after it. */
  sync(name: string, request: SyncRequest = {}): Promise<ApplicationStatus> {
    if (!this.#apps.has(name)) return Promise.reject(new Error(`unknown application ${JSON.stringify(name)}`));
    const suspension = this.#suspensions.get(name);
    if (suspension) return Promise.reject(stalled("Suspended", `${name} is ${describeSuspension(suspension)}: run ferry resume ${name} first`));
    return new Promise((resolve) => {
      const pending = this.#manual.get(name) ?? { request, waiters: [] };
      pending.waiters.push(resolve);
      this.#manual.set(name, { request: { ...pending.request, ...request }, waiters: pending.waiters });
      this.#queue.add(name, "manual");
    });
  }

  /** The status of every application known (configured or still recorded), sorted by name. */
  statuses(): ApplicationStatus[] {
    const names = new Set([...this.#apps.keys(), ...this.#records.keys()]);
    return [...names].sort().flatMap((n) => {
      const s = this.status(n);
      return s ? [s] : [];
    });
  }

  /** The status of one application, with the progress of a run in flight as its Reconciling condition. */
  status(name: string): ApplicationStatus | undefined {
    const app = this.#apps.get(name);
    const record = this.#records.get(name) ?? (app ? newRecord(name, targetKey(app.spec)) : undefined);
    if (!record) return undefined;
    // A suspension set or lifted since the last run shows at once, not after the run it queued.
    const suspended = record.status.suspension === this.#suspensions.get(name) ? record.status : withSuspension(record, this.#suspensions.get(name), this.#now()).status;
    const status = this.#withInputs(name, suspended);
    const progress = this.#progress.get(name);
    if (!progress) return status;
    return {
      ...status,
      conditions: setCondition(status.conditions, { type: "Reconciling", status: "True", reason: "Progressing", message: progress }, this.#now()),
    };
  }

  /**
   * The status with what the application's render read: a revision that
   * changed none of it shows as the one the application is current at.
   */
  #withInputs(name: string, status: ApplicationStatus): ApplicationStatus {
    const tracked = this.#inputs.get(name);
    if (!tracked) return status;
    const inputs = { revision: tracked.current, paths: tracked.directories.length + tracked.files.length, ...(tracked.untracked ? { untracked: tracked.untracked } : {}) };
    if (tracked.current === tracked.revision) return { ...status, inputs };
    const moved = (revision: Revision | undefined): Revision | undefined => (revision === tracked.revision ? tracked.current : revision);
    const lastAttemptedRevision = moved(status.lastAttemptedRevision);
    return { ...status, sync: { ...status.sync, ...(status.sync.revision ? { revision: moved(status.sync.revision) } : {}) }, ...(lastAttemptedRevision ? { lastAttemptedRevision } : {}), inputs };
  }

  /**
   * How many renders ran, how many runs a new revision did not need because
   * it changed nothing the application reads, and how many interval runs
   * found inputs and live state unchanged without rendering.
   */
  runCounts(): { readonly renders: number; readonly unchanged: number; readonly verified: number } {
    return { renders: this.#renders, unchanged: this.#unchanged, verified: this.#verified };
  }

  /**
   * A sync a person asked for of every application (`ferry sync --all`): each
   * one renders and applies whatever its inputs. Suspended ones are left out.
   * Resolves with the status of each after its run.
   */
  syncAll(request: SyncRequest = {}): Promise<ApplicationStatus[]> {
    const names = [...this.#apps.keys()].filter((name) => !this.#suspensions.has(name)).sort();
    return Promise.all(names.map((name) => this.sync(name, request)));
  }

  /**
   * Starts a run of the application's Job `job` as declared at the revision
   * it synced last (asking again with the same id returns that run): the
   * verification of a promotion step runs this way, after the version synced
   * and became healthy. Returns the run and the Job's key, to read the run by.
   */
  async runJob(name: string, job: string, request: JobRunRequest): Promise<{ readonly key: ResourceKey; readonly run: JobRun }> {
    const app = this.#apps.get(name);
    const revision = this.#records.get(name)?.status.sync.revision;
    if (!app || !revision) throw stalled("NotSynced", `application ${name} has not synced a revision to run job ${job} of`);
    const target = this.#target(app);
    if (!target.runJob) throw stalled("NotRunnable", `target ${target.name} of ${name} cannot run a job on demand`);
    const artifact = await this.#options.fetcherFor(app).artifactAt(revision);
    const rendered = prepareStage(await renderStage(artifact, app.spec.source.path, { helm: helmOptionsOf(app), ...(this.#options.ageIdentities ? { identities: this.#options.ageIdentities } : {}) }), target, app.spec.settings);
    const object = rendered.objects.find((o) => o.manifest.metadata.name === job && target.runnable?.(o) === undefined);
    if (!object) throw stalled("JobNotFound", `${name} has no Job ${JSON.stringify(job)} at ${revision.slice(0, 8)} to run`);
    const run = await target.runJob(object, { application: app.name, artifactDirectory: artifact.directory, ...(app.spec.settings ? { settings: app.spec.settings } : {}) }, request);
    return { key: object.key, run };
  }

  /** A run started by runJob, as its target knows it now; undefined when there is none. */
  async jobRun(name: string, key: ResourceKey, id: string): Promise<JobRun | undefined> {
    const app = this.#apps.get(name);
    if (!app) return undefined;
    return this.#target(app).jobRun?.(key, id);
  }

  /**
   * What a sync of the application would change now, without changing
   * anything; objects that match Git apart from fields ignore rules hide come
   * too (type `same`, with those fields), since people want to see them.
   */
  async diff(name: string): Promise<ObjectDiff[]> {
    const app = this.#apps.get(name);
    if (!app) throw new Error(`unknown application ${JSON.stringify(name)}`);
    const fetcher = this.#options.fetcherFor(app);
    const artifact = fetcher.current() ?? (await fetcher.refresh()).artifact;
    const diffs = await this.#compare(app, artifact);
    return diffs.filter((d) => (d.type === "same" ? d.ignored !== undefined : !(d.type === "orphan" && !d.live)));
  }

  /**
   * What a sync of the application at another artifact (a branch, a pull
   * request's commit) would change in its live target, exactly as a sync
   * would decide it: render, validate, describe, read live, diff and plan,
   * pruning only what the application's policy prunes. Nothing is applied.
   * The application need not be configured (one that exists only at that
   * revision is compared against an empty inventory).
   */
  async preview(app: Application, artifact: Artifact): Promise<SyncPreview> {
    const diffs = await this.#compare(app, artifact);
    const inventory = this.#records.get(app.name)?.status.inventory ?? [];
    const orphanAnnotations = new Map(inventory.filter((e) => e.annotations).map((e) => [e.key, e.annotations ?? {}]));
    const plan = planSync(diffs, { prune: app.spec.syncPolicy.prune, orphanAnnotations, kindOrder: PLANNING_ORDER });
    const pruned = new Set(plan.prune.map((p) => p.key));
    return {
      diffs: diffs.filter((d) => d.type === "missing" || d.type === "changed" || pruned.has(d.key)),
      kept: plan.kept.filter((k) => diffs.some((d) => d.key === k.key && d.type === "orphan" && d.live)).map((k) => k.key),
    };
  }

  async #compare(app: Application, artifact: Artifact): Promise<ObjectDiff[]> {
    const target = this.#target(app);
    const rendered = prepareStage(await renderStage(artifact, app.spec.source.path, { helm: helmOptionsOf(app), ...(this.#options.ageIdentities ? { identities: this.#options.ageIdentities } : {}) }), target, app.spec.settings);
    validateStage(rendered.objects, target, this.#policies);
    const desired = await describeStage(rendered.objects, target, {
      application: app.name,
      artifactDirectory: artifact.directory,
      ...(app.spec.settings ? { settings: app.spec.settings } : {}),
    });
    const inventory = (this.#records.get(app.name)?.status.inventory ?? []).map((e) => e.key);
    const live = await target.read([...new Set([...desired.map((d) => d.object.key), ...inventory])]);
    return explainStage(diffObjects(desired, live, inventory), target);
  }

  /** Resolves when no run is queued or in flight. */
  whenIdle(): Promise<void> {
    return this.#queue.whenIdle();
  }

  /** Runs queued for later (retries, intervals) do not count; this is how many wait or run now. */
  get queueDepth(): number {
    return this.#queue.depth;
  }

  async #run(name: string, triggers: readonly Trigger[]): Promise<void> {
    const trigger = TRIGGER_PRIORITY.find((t) => triggers.includes(t)) ?? "interval";
    const manual = this.#manual.get(name);
    this.#manual.delete(name);
    const app = this.#apps.get(name);
    try {
      if (!app) {
        const record = this.#records.get(name);
        if (record) await removeApplication(record, this.#targets.get(record.status.target), this.#options.store, this.#bus);
        this.#records.delete(name);
        return;
      }
      // A new revision that changes nothing the application read needs no run: it is current there as it is.
      if (!manual && triggers.every((t) => t === "revision") && (await this.#unchangedFor(app))) return;
      // An interval run with unchanged inputs only verifies that live state is still what the last full run left.
      if (!manual && triggers.every((t) => t === "interval") && (await this.#stillInSync(app))) {
        this.#queue.addAfter(name, "interval", app.spec.syncPolicy.interval);
        return;
      }
      const record = this.#records.get(name) ?? newRecord(name, targetKey(app.spec));
      const kept: Promise<void>[] = [];
      const next = await this.#reconcile(app, record, trigger, manual?.request, (event) => kept.push(this.#bus.emit(event)));
      // The status is about to report what this run did: its events are durable first (in the history),
      // so whoever reads the status can find them there, even if the agent dies right after.
      await Promise.all(kept);
      if (next.inputs) this.#inputs.set(name, { ...next.inputs, current: next.inputs.revision });
      else this.#inputs.delete(name);
      if (next.inputs && next.live) this.#sealed.set(name, { ...next.live, revision: next.inputs.revision });
      else this.#sealed.delete(name);
      await this.#finish(app, record, withSuspension(next.record, this.#suspensions.get(name), this.#now()), next.retry);
    } catch (error) {
      const e = toFerryError(error);
      console.error(`reconcile of ${name} failed unexpectedly: ${e.message}`);
      if (app) this.#queue.addAfter(name, "retry", this.#backoff(name));
    } finally {
      this.#progress.delete(name);
      const status = this.status(name);
      if (status) for (const resolve of manual?.waiters ?? []) resolve(status);
    }
  }

  /**
   * True when the source's new revision changes none of the paths the
   * application's last full run read (`git diff` between the two): the
   * application is then recorded as current at it, in memory, with no
   * render, apply or record write. False when that cannot be told (no
   * inputs known, a render that reads more than it names, a refused
   * revision, a source that cannot list its changes).
   */
  async #unchangedFor(app: Application): Promise<boolean> {
    const tracked = this.#inputs.get(app.name);
    if (!tracked || tracked.untracked !== undefined) return false;
    const fetcher = this.#options.fetcherFor(app);
    const artifact = fetcher.current();
    if (!artifact || !fetcher.changedPaths || fetcher.refusal?.() || artifact.revision === tracked.current) return false;
    const changed = await fetcher.changedPaths(tracked.current, artifact.revision);
    if (changed === undefined || changed.some((path) => readsPath(tracked, path))) return false;
    if (this.#inputs.get(app.name) !== tracked) return false;
    this.#inputs.set(app.name, { ...tracked, current: artifact.revision });
    this.#unchanged++;
    return true;
  }

  /**
   * True when an interval run would change nothing, told without rendering:
   * the inputs are those of the last full run (same revision, or a newer one
   * that changed none of them), that run found or left everything in sync and
   * healthy, nothing changed since (spec, policies, suspension and dependencies
   * would have queued another trigger), and the target reads the same live
   * state and health now. Anything else runs in full: a hand edit whose
   * notification never came is corrected by it.
   */
  async #stillInSync(app: Application): Promise<boolean> {
    const sealed = this.#sealed.get(app.name);
    const tracked = this.#inputs.get(app.name);
    const record = this.#records.get(app.name);
    if (!sealed || !tracked || !record || tracked.untracked !== undefined || sealed.revision !== tracked.revision) return false;
    const fetcher = this.#options.fetcherFor(app);
    if (fetcher.current()?.revision !== tracked.current || fetcher.refusal?.()) return false;
    if (app.spec.suspend || record.stalledOn || record.status.drift.length > 0 || record.status.suspension !== this.#suspensions.get(app.name)) return false;
    const ready = (name: string): boolean => this.#records.get(name)?.status.conditions.find((c) => c.type === "Ready")?.status === "True";
    if (!ready(app.name) || !app.spec.dependsOn.every(ready)) return false;
    const target = this.#targets.get(targetKey(app.spec));
    if (!target) return false;
    const live = await target.read(sealed.keys);
    if (sealLive(sealed.keys, live).digest !== sealed.digest) return false;
    const inventory = record.status.inventory;
    const health = await target.health(inventory.map((e) => e.key));
    const same = inventory.every((e) => {
      const now = health.get(e.key);
      return now?.status === e.health.status && now.message === e.health.message;
    });
    if (!same || this.#sealed.get(app.name) !== sealed || this.#records.get(app.name) !== record) return false;
    this.#verified++;
    return true;
  }

  async #reconcile(
    app: Application,
    record: AppRecord,
    trigger: Trigger,
    manual: SyncRequest | undefined,
    emit: (event: EngineEvent) => void,
  ): Promise<ReconcileResult> {
    const now = this.#now();
    if (app.spec.suspend && !manual) return { record: waitingStatus(record, app, "Suspended", "reconciliation is suspended", now, true) };
    const notReady = app.spec.dependsOn.filter((d) => this.#records.get(d)?.status.conditions.find((c) => c.type === "Ready")?.status !== "True");
    if (notReady.length > 0) {
      return { record: waitingStatus(record, app, "DependencyNotReady", `waiting for ${notReady.join(", ")} to be ready`, now, false) };
    }
    const progress = (message: string, stage?: ReconcileStage): void => {
      if (stage === "render") this.#renders++;
      this.#progress.set(app.name, message);
      this.#bus.emit({ type: "Progress", application: app.name, message, ...(stage ? { stage } : {}) });
    };
    let target: Target;
    let artifact;
    const fetcher = this.#options.fetcherFor(app);
    try {
      target = this.#target(app);
      progress("fetching source", "source");
      const current = fetcher.current();
      artifact = !current || trigger === "manual" || trigger === "refresh" ? (await fetcher.refresh()).artifact : current;
    } catch (error) {
      const e = toFerryError(error, "SourceFailed");
      const lastGood = fetcher.refusal?.()?.error === e ? await this.#lastAccepted(fetcher, record) : undefined;
      if (!lastGood) return { record: erroredStatus(record, app, e, now), ...(e.disposition === "transient" ? { retry: "backoff" as const } : {}) };
      target = this.#target(app);
      artifact = lastGood;
    }
    const input = {
      application: app,
      artifact,
      target,
      record,
      trigger,
      ...(manual ? { manual } : {}),
      now: this.#now,
      progress,
      emit,
      healthTimeoutMs: this.#options.healthTimeoutMs ?? 120_000,
      ...(this.#options.maxDeleteShare !== undefined ? { maxDeleteShare: this.#options.maxDeleteShare } : {}),
      ...(this.#suspensions.has(app.name) ? { suspended: true } : {}),
      ...(this.#options.ageIdentities ? { ageIdentities: this.#options.ageIdentities } : {}),
      ...(this.#policies.length > 0 ? { policies: this.#policies } : {}),
      saveRecord: (saved: AppRecord) => this.#options.store.save(saved),
    };
    const refusal = fetcher.refusal?.();
    const result = await this.#runRevision(input);
    // Read at a revision other than the source's newest: what it read says nothing about the newest.
    return refusal ? { record: refusedRecord(result.record, refusal, now), ...(result.retry ? { retry: result.retry } : {}) } : result;
  }

  /** Runs the artifact's revision, or heals the last good one when that revision stalled. */
  #runRevision(input: ReconcileInput): Promise<ReconcileResult> {
    const { record, artifact } = input;
    const stalledHere = record.stalledOn?.revision === artifact.revision && record.stalledOn.digest === undefined;
    if (stalledHere && !input.manual && record.applied && record.applied.revision !== artifact.revision) {
      return this.#healLastGood(input, record.applied.revision);
    }
    return reconcileApplication(input);
  }

  /**
   * The newest accepted artifact of a source whose newest revision was
   * refused: the fetcher's current one, or after a restart the revision last
   * applied (verified again on the way).
   */
  async #lastAccepted(fetcher: SourceFetcher, record: AppRecord): Promise<Artifact | undefined> {
    const current = fetcher.current();
    if (current) return current;
    if (!record.applied) return undefined;
    try {
      return await fetcher.artifactAt(record.applied.revision);
    } catch {
      return undefined;
    }
  }

  /**
   * The newest revision cannot be rendered, so the last good one keeps
   * running: drift is still corrected against it, while the status keeps
   * saying the newest revision is stalled.
   */
  async #healLastGood(input: ReconcileInput, revision: string): Promise<{ record: AppRecord; retry?: "backoff" | "soon" }> {
    const { record } = input;
    let good;
    try {
      good = await this.#options.fetcherFor(input.application).artifactAt(revision);
    } catch {
      return { record };
    }
    const healed = await reconcileApplication({ ...input, artifact: good, record: { ...record, stalledOn: undefined } });
    const { conditions, lastAttemptedRevision, problems, sync } = record.status;
    return {
      record: {
        ...healed.record,
        stalledOn: record.stalledOn,
        status: { ...healed.record.status, conditions, problems, sync, ...(lastAttemptedRevision ? { lastAttemptedRevision } : {}) },
      },
    };
  }

  async #finish(app: Application, previous: AppRecord, result: AppRecord, retry: "backoff" | "soon" | undefined): Promise<void> {
    const delayMs = retry === "backoff" ? this.#backoff(app.name) : undefined;
    // A failure of the moment says in the status that it is retried, and when (drift events retry it sooner).
    const next = delayMs !== undefined ? withRetry(result, delayMs, this.#failures.get(app.name) ?? 1, this.#now()) : withoutRetry(result);
    const { becameReady } = await finishRun(previous, next, this.#options.store, this.#bus);
    this.#records.set(app.name, next);
    if (becameReady) for (const other of this.#dependents.get(app.name) ?? []) if (this.#apps.get(other)?.spec.dependsOn.includes(app.name)) this.#queue.add(other, "dependency");
    if (delayMs !== undefined) this.#queue.addAfter(app.name, "retry", delayMs);
    else {
      this.#failures.delete(app.name);
      if (retry === "soon") this.#queue.addAfter(app.name, "retry", 1000);
    }
    this.#queue.addAfter(app.name, "interval", app.spec.syncPolicy.interval);
  }

  #backoff(name: string): number {
    const attempts = (this.#failures.get(name) ?? 0) + 1;
    this.#failures.set(name, attempts);
    const { baseMs, maxMs } = this.#options.retry ?? { baseMs: 1000, maxMs: 300_000 };
    return Math.min(maxMs, baseMs * 2 ** (attempts - 1));
  }

  #target(app: Application): Target {
    const key = targetKey(app.spec);
    const target = this.#targets.get(key);
    if (!target) {
      const known = [...this.#targets.keys()].join(", ");
      throw stalled("UnknownTarget", `application ${app.name} names target ${JSON.stringify(key)}; this agent has: ${known}`);
    }
    return target;
  }

  /** The target an application runs on (or ran on, for one that left Git): the work queue's group. */
  #targetOf(name: string): string {
    const app = this.#apps.get(name);
    return app ? targetKey(app.spec) : (this.#records.get(name)?.status.target ?? "");
  }

  #onLiveChange(change: LiveChange): void {
    const owner = change.owner ?? this.#ownerOf(change.key);
    if (owner) this.enqueue(owner, "drift");
  }

  #ownerOf(key: ResourceKey): string | undefined {
    for (const record of this.#records.values()) if (record.status.inventory.some((e) => e.key === key)) return record.name;
    return undefined;
  }
}

/** True when a changed repository path is one a run read: one of its files, or under one of its directories. */
function readsPath(inputs: RunInputs, path: string): boolean {
  if (inputs.files.includes(path)) return true;
  return inputs.directories.some((dir) => {
    const d = normalizeDir(dir);
    return d === "" || path === d || path.startsWith(`${d}/`);
  });
}
