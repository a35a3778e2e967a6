import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import type { Problem } from "../core/errors.js";
import { stalled, toFerryError } from "../core/errors.js";
import type { ResourceKey, Revision } from "../core/ids.js";
import { shortRevision } from "../core/ids.js";
import type { Application } from "../config/application.js";
import type { LoadedHealthRule } from "../config/health-rule.js";
import { loadApplications } from "../config/load-config.js";
import type { PolicyRule } from "../config/policy.js";
import { policyProblemsNamed } from "../validate/policy-check.js";
import { Engine } from "../engine/engine.js";
import type { ApplicationStatus, HoldStatus, PromotionWait, Suspension } from "../engine/status.js";
import { describeSuspension } from "../engine/status.js";
import { SuspensionFile } from "./suspensions.js";
import { holdStatuses } from "./holds.js";
import type { AgeIdentity } from "../secrets/age.js";
import { defaultHistoryUrl, openHistory } from "../history/open-history.js";
import { HistoryRecorder } from "../history/recorder.js";
import { runningAtStart } from "../history/running-at-start.js";
import type { Notification } from "../config/notification.js";
import { Notifier } from "../notify/notifier.js";
import { loadManifestFiles } from "../render/load-files.js";
import { renderDirectory } from "../render/render.js";
import type { Artifact, SourceFetcher, SourceRefusal } from "../source/artifact.js";
import { Poller } from "../source/poller.js";
import { redactSecrets } from "../source/repository-url.js";
import { SignatureVerifier } from "../source/signature-verifier.js";
import type { CommitSigningSettings } from "../source/git-writer.js";
import type { SignaturePolicy } from "../source/signatures.js";
import { SourceRegistry } from "../source/source-registry.js";
import { FileRecordStore } from "../state/file-record-store.js";
import type { TargetAgentOptions } from "../targets/registry.js";
import { TARGETS } from "../targets/registry.js";
import type { Target } from "../targets/target.js";
import { HealthRuleSet } from "../targets/kubernetes/health/rule-set.js";
import type { ControlServer } from "./control-server.js";
import type { RollbackRequest, RollbackResult } from "./rollback.js";
import { rollbackApplication } from "./rollback.js";
import { AgentMetrics } from "./metrics.js";
import { ReplayGuard } from "../webhooks/replay-guard.js";
import type { Pipeline } from "../config/pipeline.js";
import type { Hold } from "../history/types.js";
import type { PromoteRequest } from "../promote/controller.js";
import { PromotionController } from "../promote/controller.js";
import type { PipelineView } from "../promote/pipeline-view.js";
import { pipelineView } from "../promote/pipeline-view.js";
import type { PromotionRecord } from "../promote/promotion-state.js";
import type { WatchSpec } from "../watch/watch-spec.js";
import type { Watcher } from "../watch/watcher.js";
import { createWatcher } from "../watch/watcher.js";
import { watchesArtifact } from "../watch/watch-match.js";
import type { PushedArtifact } from "../webhooks/registry-notice.js";
import type { PushNotice } from "../webhooks/verify.js";
import { scopePush } from "../webhooks/push-scope.js";
import { loadSourceTree, normalizeDir } from "../render/load-source.js";
import { parseOffThread } from "../render/parse-pool.js";
import { repositoryIdentity } from "../webhooks/verify.js";
import { startControlServer } from "./control-server.js";
import { clearAgentInfo, dashboardUrl, lockStateDir, removeTemporaryFiles, saveAgentSettings, writeAgentInfo } from "./state-dir.js";

/** How long a starting agent waits for the history to say what it lacks of what runs. */
const RUNNING_CHECK_TIMEOUT_MS = 10_000;

/** How an agent is set up: where its configuration lives in Git, and where it keeps state. */
export interface AgentOptions {
  /** Repository holding the Application documents: a path or URL. */
  readonly repo: string;
  /** Branch or tag of that repository. */
  readonly ref: string;
  /** Directory inside it where the Application documents are. */
  readonly path: string;
  readonly stateDir: string;
  /** Allowed root of the host target: files are written under it, services run in it. */
  readonly root: string;
  readonly pollIntervalMs: number;
  /** Fraction of the interval added or taken at random, so many agents do not poll in step. */
  readonly jitter: number;
  /** Where the control API listens; `false` for none (one-shot runs). */
  readonly listen: { readonly host: string; readonly port: number } | false;
  readonly healthTimeoutMs?: number;
  readonly concurrency?: number;
  /** Where the history goes: `sqlite:<path>` or `postgres://...`; default a SQLite file in the state directory. */
  readonly history?: string;
  /** Events older than this are pruned from the history; default: keep everything. */
  readonly historyRetentionMs?: number;
  /** This agent's name in a shared history; default the host name. */
  readonly name?: string;
  /** Shared secret of the webhook receivers (HMAC key, or GitLab's token); none: webhooks are refused. */
  readonly webhookSecret?: string;
  /** Keys that decrypt encrypted content in Git (SOPS with age, age values), read from `ageKeyFile`. */
  readonly ageIdentities?: readonly AgeIdentity[];
  /** Where those keys came from (saved for commands run while no agent runs; the keys themselves never are). */
  readonly ageKeyFile?: string;
  /** Serve the control API over HTTPS with this PEM certificate (chain) and private key. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  /**
   * Verify commit signatures of every source (the configuration and every
   * application's repository) against these keys; none: commits are not checked.
   */
  readonly signatures?: SignaturePolicy;
  /** Kubeconfig of the Kubernetes clusters; default `$KUBECONFIG`, `~/.kube/config`, or the cluster the agent runs in. */
  readonly kubeconfig?: string;
  /** Context of the default cluster (`target: kubernetes` without `cluster`); default the current context. */
  readonly kubeContext?: string;
  /** Request timeouts of the clusters (`--kube-timeout`: `20s,prod=1m`); default 30 s each. */
  readonly kubeTimeout?: string;
  /** How the commits the agent writes (promotions, rollbacks) are signed: git `-c` settings for `git commit -S` (gpg.format, user.signingkey) and their environment. */
  readonly commitSigning?: CommitSigningSettings;
  /** The key file behind `commitSigning` (absolute), saved so one-shot commands sign as the agent does. */
  readonly signCommitsFile?: string;
  /** Makes the watcher of a Pipeline's `watch:` (default: createWatcher, relative directories from the working directory). */
  readonly createWatcher?: (spec: WatchSpec) => Watcher;
}

/** What a push refreshed: the sources it named, and the applications that run at their new revision. */
export interface PushRefreshed {
  readonly sources: readonly string[];
  readonly applications: readonly string[];
}

/** Where the configuration stands: the revision loaded and what was wrong with the newest one. */
export interface ConfigStatus {
  readonly repo: string;
  readonly ref: string;
  readonly path: string;
  /** Revision of the configuration in use (the last good one). */
  readonly revision?: Revision;
  /** Newest revision seen; differs from `revision` when that one was rejected. */
  readonly lastAttemptedRevision?: Revision;
  readonly problems: readonly Problem[];
  readonly applications: readonly string[];
}

/**
 * The agent: pulls the configuration repository, keeps the engine's
 * applications in step with it, polls every source, and serves the control
 * API. Everything it runs is in its state directory.
 */
export class Agent {
  readonly options: AgentOptions;
  readonly engine: Engine;
  /** Writes every sync, drift and rollback to the history. */
  readonly history: HistoryRecorder;
  /** Sends alerts to the endpoints of the configuration's Notification documents. */
  readonly notifier: Notifier;
  /** Counts what Prometheus scrapes at /metrics. */
  readonly metrics = new AgentMetrics();
  /** Moves versions through the environments of the configuration's Pipelines. */
  readonly promotions: PromotionController;
  /** Webhook deliveries already acted on. */
  readonly webhookDeliveries = new ReplayGuard();
  readonly #sources: SourceRegistry;
  readonly #targets: Map<string, Target>;
  readonly #configFetcher: SourceFetcher;
  readonly #pollers = new Map<SourceFetcher, Poller>();
  readonly #verifier: SignatureVerifier | undefined;
  /** The refused revision last reported per source, so a refusal is told once, not at every poll. */
  readonly #reportedRefusals = new Map<SourceFetcher, string>();
  #config: ConfigStatus;
  #server: ControlServer | undefined;
  #dashboardUrl: string | undefined;
  #release: (() => void) | undefined;
  #configLoading: Promise<void> = Promise.resolve();
  #pipelines: readonly Pipeline[] = [];
  readonly #suspensionFile: SuspensionFile;
  /** Set by `ferry refresh --allow-mass-delete`: the next configuration may remove every application. */
  #allowEmptyConfig = false;
  /** Suspend and resume write the file one at a time. */
  #suspending: Promise<unknown> = Promise.resolve();
  /** False for one-shot commands (diff, sync) that run only what they are asked to. */
  #reconcile = true;
  /** Holds as the history store has them, with who rolled back: refreshed at every promotion check, and at once by rollback and release. */
  #holds = new Map<string, HoldStatus>();
  /** The health rules of the last accepted configuration: the built-in ones with the repository's HealthRules first. */
  #healthRules: HealthRuleSet = HealthRuleSet.builtIn();
  #healthRulesText = "[]";
  /** Whether what runs was checked against the history (once, at the first configuration). */
  #checkedRunning = false;

  constructor(options: AgentOptions) {
    this.options = { ...options, stateDir: resolve(options.stateDir), root: resolve(options.root) };
    this.#verifier = options.signatures ? new SignatureVerifier(options.signatures, join(this.options.stateDir, "gnupg")) : undefined;
    this.#sources = new SourceRegistry(join(this.options.stateDir, "sources"), this.#verifier ? { verifier: this.#verifier } : {});
    this.#configFetcher = this.#sources.fetcher(options.repo, options.ref);
    this.#targets = new Map<string, Target>();
    const targetOptions: TargetAgentOptions = {
      root: this.options.root,
      stateDir: this.options.stateDir,
      ...(options.kubeconfig !== undefined ? { kubeconfig: options.kubeconfig } : {}),
      ...(options.kubeContext !== undefined ? { kubeContext: options.kubeContext } : {}),
      ...(options.kubeTimeout !== undefined ? { kubeTimeout: options.kubeTimeout } : {}),
      healthRules: () => this.#healthRules,
    };
    for (const entry of TARGETS) {
      for (const target of entry.create(targetOptions)) this.#targets.set(target.name, target);
    }
    this.engine = new Engine({
      targets: this.#targets,
      fetcherFor: (app) => this.fetcherFor(app),
      store: new FileRecordStore(this.options.stateDir),
      observeTargetCall: this.metrics.targetCall,
      ...(options.ageIdentities ? { ageIdentities: options.ageIdentities } : {}),
      ...(options.healthTimeoutMs !== undefined ? { healthTimeoutMs: options.healthTimeoutMs } : {}),
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    });
    this.#suspensionFile = new SuspensionFile(this.options.stateDir);
    this.#config = { repo: redactSecrets(options.repo), ref: options.ref, path: options.path, problems: [], applications: [] };
    const historyUrl = this.historyUrl;
    this.history = new HistoryRecorder({
      open: () => openHistory(historyUrl),
      agent: options.name ?? hostname(),
      environmentOf: (name) => this.engine.application(name)?.spec.environment,
      spillFile: join(this.options.stateDir, "history-pending.jsonl"),
      ...(options.historyRetentionMs !== undefined ? { retentionMs: options.historyRetentionMs } : {}),
    });
    this.engine.subscribe(this.history.listener);
    this.engine.subscribe(this.metrics.listener);
    this.notifier = new Notifier({ agent: options.name ?? hostname() });
    this.engine.subscribe(this.notifier.listener);
    this.promotions = this.#createPromotions();
    this.engine.subscribe((event) => {
      if (event.type === "SyncFinished" || event.type === "StatusChanged") this.promotions.poke();
    });
  }

  #createPromotions(): PromotionController {
    const unsigned = this.options.signatures && !this.options.commitSigning;
    return new PromotionController(
      {
        pipelines: () => this.#pipelines,
        application: (name) => this.engine.application(name),
        status: (name) => this.engine.status(name),
        fetcher: (app) => this.fetcherFor(app),
        repository: (app) => ({ url: app.spec.source.repoURL ?? this.options.repo, ref: app.spec.source.ref ?? this.options.ref }),
        holds: () => this.#loadHolds(),
        record: (event) => this.history.record(event),
        rollback: async (application, reason) => {
          await this.rollback(application, { reason });
        },
        refresh: (app) => this.#checkSource(this.fetcherFor(app)),
        runJob: (application, job, request) => this.engine.runJob(application, job, request),
        jobRun: (application, key, id) => this.engine.jobRun(application, key as ResourceKey, id),
        promotionFinished: (pipeline, environment, outcome, seconds) => this.metrics.promotion(pipeline, environment, outcome, seconds),
        stepChanged: (record, index) => this.notifier.promotion(record, index),
      },
      {
        stateDir: this.options.stateDir,
        workDir: join(this.options.stateDir, "work"),
        ...(this.options.commitSigning ? { signing: this.options.commitSigning } : {}),
        createWatcher: this.options.createWatcher ?? ((spec) => createWatcher(spec)),
        ...(unsigned
          ? { unsignedRefusal: "this agent verifies commit signatures and has no key to sign promotion commits with: start it with --sign-commits <ssh key file>" }
          : {}),
      },
    );
  }

  /** The configuration's Pipelines. */
  pipelines(): readonly Pipeline[] {
    return this.#pipelines;
  }

  /** Every pipeline (or the one named) with its environments' versions, gates and what waits on what. */
  async pipelineViews(name?: string): Promise<PipelineView[]> {
    const pipelines = this.#pipelines.filter((p) => name === undefined || p.name === name);
    if (name !== undefined && pipelines.length === 0) throw stalled("UnknownPipeline", `unknown pipeline ${JSON.stringify(name)}`);
    const records = this.promotions.promotions();
    const suspensions = new Map(this.engine.applications().flatMap((a) => {
      const suspension = this.engine.suspension(a.name);
      return suspension ? [[a.name, suspension] as const] : [];
    }));
    return Promise.all(
      pipelines.map(async (p) => {
        const error = this.promotions.watchError(p.name);
        const watch = p.watch ? { description: this.promotions.watchDescription(p.name) ?? `${p.watch.type} watcher`, ...(error !== undefined ? { error } : {}) } : undefined;
        return pipelineView(p, records[p.name], await this.promotions.environmentValues(p), watch, { holds: this.#holds, suspensions });
      }),
    );
  }

  /** `ferry promote`: see PromotionController.promote. */
  async promote(request: PromoteRequest): Promise<PromotionRecord> {
    await this.history.flush().catch(() => undefined);
    return this.promotions.promote(request);
  }

  /** `ferry approve`: see PromotionController.approve. */
  async approve(pipeline: string, environment: string, by: string): Promise<PromotionRecord> {
    return this.promotions.approve(pipeline, environment, by);
  }

  /** The fetchers of the configuration and of every application, each once. */
  #fetchersInUse(): Set<SourceFetcher> {
    return new Set<SourceFetcher>([this.#configFetcher, ...this.engine.applications().map((a) => this.fetcherFor(a))]);
  }

  /** The metrics in Prometheus' text format. */
  metricsText(): string {
    const statuses = this.statuses();
    const ready = statuses.filter((s) => s.conditions.some((c) => c.type === "Ready" && c.status === "True")).length;
    const fetchers = this.#fetchersInUse();
    return this.metrics.render({
      queueDepth: this.engine.queueDepth,
      historyPending: this.history.pending,
      runs: this.engine.runCounts(),
      applications: { ready, notReady: statuses.length - ready },
      repositories: [...fetchers].map((f) => {
        const { lsRemote, fetches } = f.stats?.() ?? { lsRemote: 0, fetches: 0 };
        return { url: redactSecrets(f.url), ref: f.ref, lsRemote, fetches };
      }),
    });
  }

  /**
   * A verified push arrived: checks at once the sources it names (repository
   * and branch), instead of waiting for their next poll. When the push lists
   * its files, only the applications with a changed file in their directories
   * (path and overlay bases) run, and the configuration is reloaded only when
   * its directory changed; otherwise every application of those sources runs.
   */
  async onPush(push: PushNotice): Promise<PushRefreshed> {
    const named = new Set(push.repositories);
    const fetchers = this.#fetchersInUse();
    const matching = [...fetchers].filter((f) => named.has(repositoryIdentity(f.url)) && (push.ref === undefined || push.ref === f.ref));
    const sources = matching.map((f) => `${redactSecrets(f.url)} ${f.ref}`);
    // The push's own commit is what its sources refresh to (never back to an older one).
    if (push.revision !== undefined && push.ref !== undefined) for (const f of matching) f.notePush?.(push.revision);
    const paths = push.paths;
    if (paths === undefined) {
      if (matching.includes(this.#configFetcher)) await this.refreshConfig();
      await Promise.all(matching.filter((f) => f !== this.#configFetcher).map((f) => this.#checkSource(f)));
      const applications = this.engine.applications().filter((a) => matching.includes(this.fetcherFor(a)));
      return { sources, applications: applications.map((a) => a.name).sort() };
    }
    const runs = await Promise.all(matching.map((f) => this.#refreshScoped(f, paths)));
    return { sources, applications: runs.flat().sort() };
  }

  /** Fetches one source a push named and runs only what the push's files touch; returns the applications run. */
  async #refreshScoped(fetcher: SourceFetcher, paths: readonly string[]): Promise<string[]> {
    let artifact: Artifact;
    try {
      ({ artifact } = await fetcher.refresh());
    } catch (error) {
      this.#onPollError(fetcher, error);
      return [];
    }
    const configPath = fetcher === this.#configFetcher ? this.options.path : undefined;
    // The configuration first: the applications it adds or moves are then scoped as they now are.
    if (scopePush(paths, [], configPath).config) await this.#loadConfig(artifact);
    const reading = this.engine.applications().filter((a) => this.fetcherFor(a) === fetcher);
    const scoped = await Promise.all(
      reading.map(async (a) => ({ name: a.name, directories: await loadSourceTree(artifact.directory, a.spec.source.path).then((t) => t.directories, () => [a.spec.source.path]) })),
    );
    const scope = scopePush(paths, scoped, configPath);
    for (const name of scope.applications) this.engine.enqueue(name, "revision");
    return [...scope.applications];
  }

  /** The URL of the history this agent writes. */
  get historyUrl(): string {
    return this.options.history ?? defaultHistoryUrl(this.options.stateDir);
  }

  /** The shared fetcher of an application's source: its own repository and ref, or the configuration's. */
  fetcherFor(app: Application): SourceFetcher {
    return this.#sources.fetcher(app.spec.source.repoURL ?? this.options.repo, app.spec.source.ref ?? this.options.ref);
  }

  /** The shared fetcher of any (repository, ref): a branch to preview, say. */
  sourceAt(url: string, ref: string): SourceFetcher {
    return this.#sources.fetcher(url, ref);
  }

  /** Takes the state directory, loads the configuration and starts the engine (and the control API when listening). */
  async start(options: { readonly poll?: boolean; readonly reconcile?: boolean } = {}): Promise<void> {
    this.#reconcile = options.reconcile ?? true;
    this.#release = await lockStateDir(this.options.stateDir);
    try {
      await removeTemporaryFiles(this.options.stateDir);
      const { repo, ref, path, root, kubeconfig, kubeContext, kubeTimeout } = this.options;
      const signatures = this.options.signatures;
      const { ageKeyFile, signCommitsFile } = this.options;
      await saveAgentSettings(this.options.stateDir, {
        repo,
        ref,
        path,
        root,
        history: this.historyUrl,
        ...(signatures ? { signatures } : {}),
        ...(kubeconfig !== undefined ? { kubeconfig: resolve(kubeconfig) } : {}),
        ...(kubeContext !== undefined ? { kubeContext } : {}),
        ...(kubeTimeout !== undefined ? { kubeTimeout } : {}),
        ...(ageKeyFile ? { ageKeyFile } : {}),
        ...(signCommitsFile ? { signCommits: signCommitsFile } : {}),
      });
      await this.#verifier?.prepare();
      await this.history.start();
      await this.#loadHolds().catch(() => undefined);
      for (const [name, suspension] of await this.#suspensionFile.load()) this.engine.setSuspension(name, suspension, { run: false });
      await this.engine.start();
      await this.refreshConfig();
      if (this.options.listen) {
        const token = randomBytes(24).toString("base64url");
        const readToken = randomBytes(24).toString("base64url");
        const tls = this.options.tls ? await readTlsFiles(this.options.tls) : undefined;
        this.#server = await startControlServer(this, { ...this.options.listen, token, readToken, ...(tls ? { tls } : {}) });
        this.#dashboardUrl = dashboardUrl(this.#server.url, readToken);
        await writeAgentInfo(this.options.stateDir, {
          pid: process.pid,
          url: this.#server.url,
          token,
          readToken,
          repo: this.options.repo,
          ref: this.options.ref,
          path: this.options.path,
          root: this.options.root,
          startedAt: new Date().toISOString(),
          ...(this.options.tls ? { tlsCertFile: resolve(this.options.tls.certFile) } : {}),
        });
      }
      if (options.poll ?? true) this.#ensurePollers();
      if (this.#reconcile) await this.promotions.start();
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Stops polling, the API and the engine; running services keep running. */
  async stop(): Promise<void> {
    for (const poller of this.#pollers.values()) poller.stop();
    this.#pollers.clear();
    await this.#server?.close();
    this.#server = undefined;
    this.#dashboardUrl = undefined;
    await this.promotions.stop();
    await this.engine.stop();
    // Alerts already raised get a moment to go out; an endpoint that hangs does not hold the stop.
    await Promise.race([this.notifier.drain(), new Promise((r) => setTimeout(r, 2000).unref())]);
    this.notifier.close();
    await this.history.stop();
    for (const target of this.#targets.values()) await target.close();
    clearAgentInfo(this.options.stateDir);
    this.#release?.();
    this.#release = undefined;
  }

  /** The web dashboard with the read token in its fragment, while the control API listens. */
  get dashboardUrl(): string | undefined {
    return this.#dashboardUrl;
  }

  /** The configuration's state. */
  config(): ConfigStatus {
    return this.#config;
  }

  /** Every application's status. */
  statuses(): ApplicationStatus[] {
    const waits = this.#promotionWaits();
    return this.engine.statuses().map((s) => this.#withHold(s, waits));
  }

  /** The status of one application, with its hold and what a promotion waits for in it. */
  status(name: string): ApplicationStatus | undefined {
    const status = this.engine.status(name);
    return status ? this.#withHold(status, this.#promotionWaits()) : undefined;
  }

  /** The holds of applications, as status shows them. */
  holdsNow(): ReadonlyMap<string, HoldStatus> {
    return this.#holds;
  }

  #withHold(status: ApplicationStatus, waits: ReadonlyMap<string, PromotionWait>): ApplicationStatus {
    const hold = this.#holds.get(status.name);
    const wait = waits.get(status.name);
    return hold || wait ? { ...status, ...(hold ? { hold } : {}), ...(wait ? { promotion: wait } : {}) } : status;
  }

  /** Per application: the promotion step waiting on a person there (approval, ferry promote), or held. */
  #promotionWaits(): Map<string, PromotionWait> {
    const waits = new Map<string, PromotionWait>();
    for (const record of Object.values(this.promotions.promotions())) {
      for (const step of record.steps) {
        if (step.phase !== "AwaitingApproval" && step.phase !== "AwaitingPromotion" && step.phase !== "Held") continue;
        waits.set(step.application, { pipeline: record.pipeline, environment: step.environment, version: record.version, phase: step.phase, message: step.message ?? step.phase, since: step.since });
      }
    }
    return waits;
  }

  /** Reads the holds from the history store (shared by agents), keeping who rolled back; returns them. */
  async #loadHolds(): Promise<Hold[]> {
    const { holds, statuses } = await holdStatuses(await this.history.store(), this.#holds);
    this.#holds = statuses;
    return holds;
  }

  /**
   * A verified registry notification: the pipelines whose watcher watches a
   * pushed artifact check it now. Returns their names (none: nothing watches it).
   */
  onRegistryPush(artifacts: readonly PushedArtifact[]): string[] {
    const baseDir = process.cwd();
    return this.promotions.watchNow((spec) => artifacts.some((a) => watchesArtifact(spec, a, baseDir)));
  }

  /** Checks every source now (what a webhook or `ferry refresh` does) and queues what moved. */
  async refresh(options: { readonly allowMassDelete?: boolean } = {}): Promise<void> {
    if (options.allowMassDelete) {
      // Once: the next configuration may remove every application; a revision refused for that is loaded again.
      this.#allowEmptyConfig = true;
      if (this.#config.lastAttemptedRevision !== this.#config.revision) this.#config = { ...this.#config, lastAttemptedRevision: undefined };
    }
    await this.refreshConfig();
    const fetchers = new Set(this.engine.applications().map((a) => this.fetcherFor(a)));
    await Promise.all([...fetchers].map((fetcher) => this.#checkSource(fetcher)));
  }

  /**
   * Rolls an application back through Git (see rollbackApplication), records
   * it, holds the application against automatic promotion, and checks its
   * source at once so the rollback commit is applied without waiting for a poll.
   */
  async rollback(name: string, request: RollbackRequest): Promise<RollbackResult> {
    const app = this.engine.applications().find((a) => a.name === name);
    if (!app) throw stalled("UnknownApplication", `unknown application ${JSON.stringify(name)}`);
    if (this.options.signatures && !this.options.commitSigning) {
      // An unsigned rollback commit would be refused by this very agent: write nothing.
      throw stalled(
        "RollbackNotSigned",
        `this agent verifies commit signatures and has no key to sign the rollback commit with: start it with --sign-commits <ssh key file>, or roll ${name} back with a signed commit (git revert -S)`,
      );
    }
    // The current deployment must be known: write what is queued first.
    await this.history.flush();
    const store = await this.history.store();
    const result = await rollbackApplication({
      application: app,
      store,
      url: app.spec.source.repoURL ?? this.options.repo,
      ref: app.spec.source.ref ?? this.options.ref,
      workDir: join(this.options.stateDir, "work"),
      request,
      now: new Date(),
      ...(this.options.commitSigning ? { signing: this.options.commitSigning } : {}),
    });
    this.history.record(result.event);
    await this.history.flush().catch(() => undefined);
    const [entry] = (await store.events({ application: name, types: ["Rollback"], limit: 1 })).items;
    const reason = `rolled back to ${result.to.versions.join(", ") || result.to.revision.slice(0, 8)}${request.reason ? `: ${request.reason}` : ""}`;
    await store.hold({ application: name, reason, since: result.event.at, ...(entry ? { eventId: entry.id } : {}) });
    const by = result.event.author;
    this.#holds = new Map([...this.#holds, [name, { reason, since: result.event.at, ...(by !== undefined ? { by } : {}), release: `ferry release ${name}` }]]);
    this.promotions.poke();
    this.history.record({ type: "Hold", at: result.event.at, application: name, message: reason, ...(entry ? { relatedId: entry.id } : {}) });
    this.notifier.alert({ event: "Rollback", application: name, revision: result.commit, reason: "Rollback", message: result.event.subject ?? reason, at: result.event.at });
    await this.#checkSource(this.fetcherFor(app));
    return result;
  }

  /** Releases an application's hold; false when it had none. */
  async release(name: string): Promise<boolean> {
    const store = await this.history.store();
    const released = await store.release(name);
    this.#holds = new Map([...this.#holds].filter(([application]) => application !== name));
    this.promotions.poke();
    if (released) this.history.record({ type: "Release", at: new Date().toISOString(), application: name, message: "hold released" });
    await this.history.flush().catch(() => undefined);
    return released;
  }

  /**
   * Suspends an application until resumed (kept in the state directory, so it
   * survives a restart): no sync, no self-heal; drift is still reported.
   * Recorded in the history. Returns the suspension in force.
   */
  suspend(name: string, request: { readonly by: string; readonly reason?: string }): Promise<Suspension> {
    const work = this.#suspending.then(async () => {
      if (!this.engine.applications().some((a) => a.name === name)) throw stalled("UnknownApplication", `unknown application ${JSON.stringify(name)}`);
      const existing = this.engine.suspension(name);
      if (existing) return existing;
      const suspension: Suspension = { by: request.by, at: new Date().toISOString(), ...(request.reason ? { reason: request.reason } : {}) };
      await this.#saveSuspensions(name, suspension);
      this.engine.setSuspension(name, suspension, { run: this.#reconcile });
      this.history.record({ type: "Suspend", at: suspension.at, application: name, author: suspension.by, message: describeSuspension(suspension) });
      return suspension;
    });
    this.#suspending = work.catch(() => undefined);
    return work;
  }

  /** Lifts a runtime suspension; what was held back is applied now. False when it was not suspended. */
  resume(name: string, request: { readonly by: string }): Promise<boolean> {
    const work = this.#suspending.then(async () => {
      const existing = this.engine.suspension(name);
      if (!existing) return false;
      await this.#saveSuspensions(name, undefined);
      this.engine.setSuspension(name, undefined, { run: this.#reconcile });
      this.history.record({ type: "Resume", at: new Date().toISOString(), application: name, author: request.by, message: `resumed by ${request.by}` });
      return true;
    });
    this.#suspending = work.catch(() => undefined);
    return work;
  }

  async #saveSuspensions(name: string, suspension: Suspension | undefined): Promise<void> {
    const all = await this.#suspensionFile.load();
    if (suspension) all.set(name, suspension);
    else all.delete(name);
    await this.#suspensionFile.save(all);
  }

  async #checkSource(fetcher: SourceFetcher): Promise<void> {
    const poller = this.#pollers.get(fetcher);
    try {
      const result = poller ? await poller.triggerNow() : await fetcher.refresh();
      if (!poller && result.changed) this.engine.sourceChanged(fetcher);
    } catch (error) {
      console.error(`refresh of ${redactSecrets(fetcher.url)} failed: ${toFerryError(error).message}`);
    }
  }

  /**
   * Fetches the configuration and, when it is valid, hands its applications to
   * the engine. An invalid configuration is reported and the last good one stays.
   */
  async refreshConfig(): Promise<void> {
    const poller = this.#pollers.get(this.#configFetcher);
    let result;
    try {
      result = poller ? await poller.triggerNow() : await this.#configFetcher.refresh();
    } catch (error) {
      const refusal = this.#configFetcher.refusal?.();
      if (!refusal || refusal.error !== error) throw error;
      await this.#rejectRefusedConfig(refusal);
      return;
    }
    await this.#loadConfig(result.artifact);
  }

  /** The configuration's newest revision was refused (its signature): rejected like an invalid one, the last good stays. */
  #rejectRefusedConfig(refusal: SourceRefusal): Promise<void> {
    this.#configLoading = this.#configLoading.then(() => {
      if (refusal.revision === this.#config.lastAttemptedRevision) return;
      const problems: Problem[] = [{ severity: "error", message: refusal.error.message }];
      this.#config = { ...this.#config, lastAttemptedRevision: refusal.revision, problems };
      this.engine.reportConfig({ type: "ConfigRejected", revision: refusal.revision, problems });
    });
    return this.#configLoading;
  }

  /**
   * A poll failed. A refused revision is news once: the configuration is
   * rejected, and the applications reading the source run to say why.
   */
  #onPollError(fetcher: SourceFetcher, error: unknown): void {
    const refusal = fetcher.refusal?.();
    if (!refusal || refusal.error !== error) {
      console.error(`polling ${redactSecrets(fetcher.url)} failed: ${toFerryError(error).message}`);
      return;
    }
    if (this.#reportedRefusals.get(fetcher) === refusal.revision) return;
    this.#reportedRefusals.set(fetcher, refusal.revision);
    console.error(`${redactSecrets(fetcher.url)} ${fetcher.ref}: ${refusal.error.message}`);
    const reload = fetcher === this.#configFetcher ? this.#rejectRefusedConfig(refusal) : Promise.resolve();
    void reload.then(() => this.engine.sourceChanged(fetcher));
  }

  /** Loads one configuration revision; calls are serialized and a revision already seen is skipped. */
  #loadConfig(artifact: Artifact): Promise<void> {
    this.#configLoading = this.#configLoading.then(() => this.#applyConfig(artifact));
    return this.#configLoading;
  }

  async #applyConfig(artifact: Artifact): Promise<void> {
    if (artifact.revision === this.#config.lastAttemptedRevision) return;
    if (await this.#configUnchanged(artifact.revision)) {
      // No file of the configuration's directory changed: the same documents, not parsed again.
      this.#config = { ...this.#config, revision: artifact.revision, lastAttemptedRevision: artifact.revision };
      this.engine.reportConfig({ type: "ConfigLoaded", revision: artifact.revision, applications: this.#config.applications });
      return;
    }
    let problems: readonly Problem[];
    let applications: Application[] = [];
    let notifications: Notification[] = [];
    let pipelines: Pipeline[] = [];
    let policies: PolicyRule[] = [];
    let healthRules: LoadedHealthRule[] = [];
    try {
      const files = await loadManifestFiles(artifact.directory, this.options.path);
      await parseOffThread(files);
      const rendered = renderDirectory(files, {});
      problems = rendered.problems;
      if (problems.length === 0) {
        ({ applications, notifications, pipelines, policies, healthRules, problems } = loadApplications(rendered.objects, { repository: this.options.repo }));
        // Rules that name Application (or Policy) documents hold for the configuration itself.
        problems = [...problems, ...policyProblemsNamed(policies, rendered.objects)];
      }
    } catch (error) {
      problems = [{ severity: "error", message: `configuration at ${shortRevision(artifact.revision)}: ${toFerryError(error).message}` }];
    }
    if (problems.every((p) => p.severity !== "error") && !this.#allowEmptyConfig) problems = [...problems, ...this.#emptiedConfigProblems(applications, artifact.revision)];
    const errors = problems.filter((p) => p.severity === "error");
    if (errors.length > 0) {
      this.#config = { ...this.#config, lastAttemptedRevision: artifact.revision, problems };
      this.engine.reportConfig({ type: "ConfigRejected", revision: artifact.revision, problems });
      return;
    }
    this.#allowEmptyConfig = false;
    if (!this.#checkedRunning) {
      this.#checkedRunning = true;
      await this.#recordRunningAtStart(applications);
    }
    this.#config = { ...this.#config, revision: artifact.revision, lastAttemptedRevision: artifact.revision, problems, applications: applications.map((a) => a.name) };
    this.notifier.configure(notifications);
    this.#pipelines = pipelines;
    // A revision with a broken rule was refused above, so the last good rules kept serving until now.
    const rulesText = JSON.stringify(healthRules.map((r) => r.object.manifest));
    const rulesChanged = rulesText !== this.#healthRulesText;
    this.#healthRules = HealthRuleSet.withUserRules(healthRules.map((r) => r.rule));
    this.#healthRulesText = rulesText;
    this.engine.setApplications(applications, { run: this.#reconcile, policies });
    // Other rules may read the same objects differently: every application looks at its health again.
    if (rulesChanged && this.#reconcile) for (const app of applications) this.engine.enqueue(app.name, "config");
    this.engine.reportConfig({ type: "ConfigLoaded", revision: artifact.revision, applications: applications.map((a) => a.name) });
    this.#ensurePollers();
  }

  /** True when the configuration in use was accepted and `revision` changes no file under its directory (git diff-tree). */
  async #configUnchanged(revision: Revision): Promise<boolean> {
    const loaded = this.#config.revision;
    if (loaded === undefined || loaded !== this.#config.lastAttemptedRevision || this.#allowEmptyConfig || !this.#configFetcher.changedPaths) return false;
    const changed = await this.#configFetcher.changedPaths(loaded, revision);
    if (changed === undefined) return false;
    const dir = normalizeDir(this.options.path);
    return !changed.some((path) => dir === "" || path === dir || path.startsWith(`${dir}/`));
  }

  /**
   * Before the first runs: what the records say runs but the history lacks
   * (the last agent died before writing it) is recorded as found, and is
   * durable before any application runs. A history that does not answer in
   * time is logged and skipped, never holding the start.
   */
  async #recordRunningAtStart(applications: readonly Application[]): Promise<void> {
    const check = async (): Promise<void> => {
      const found = await runningAtStart(applications, (name) => this.engine.status(name), await this.history.store(), new Date());
      for (const event of found) console.error(`history: ${event.application} runs ${event.revision?.slice(0, 8) ?? ""} but its sync was not recorded: recorded now as found running`);
      await Promise.all(found.map((event) => this.history.record(event)));
    };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), RUNNING_CHECK_TIMEOUT_MS)));
    try {
      if ((await Promise.race([check(), timeout])) === "timeout") console.error("history: could not check what runs against the history in time; going on");
    } catch (error) {
      console.error(`history: cannot check what runs against the history: ${toFerryError(error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The mass-delete guard for the configuration: a revision that removes every
   * application at once (an emptied or mistyped path) while some of them would
   * prune their objects is refused, like a sync deleting all of an application's
   * objects; `ferry refresh --allow-mass-delete` lets it through once.
   */
  #emptiedConfigProblems(applications: readonly Application[], revision: Revision): Problem[] {
    const current = this.engine.applications();
    if (applications.length > 0 || current.length === 0) return [];
    const statuses = new Map(this.engine.statuses().map((s) => [s.name, s]));
    const pruning = current.filter((a) => a.spec.syncPolicy.prune && (statuses.get(a.name)?.inventory.length ?? 0) > 0);
    if (pruning.length === 0) return [];
    const objects = pruning.reduce((n, a) => n + (statuses.get(a.name)?.inventory.length ?? 0), 0);
    const message =
      `configuration at ${shortRevision(revision)}: ${this.options.path} holds no Application any more; refusing to remove all ${current.length} and prune ${objects} objects of ${pruning.map((a) => a.name).join(", ")}. ` +
      "If this is intended, run: ferry refresh --allow-mass-delete";
    return [{ severity: "error", message }];
  }

  /** One poller per fetcher in use; the configuration's poller reloads the configuration before waking applications. */
  #ensurePollers(): void {
    if (!this.#release) return;
    const fetchers = this.#fetchersInUse();
    for (const fetcher of fetchers) {
      if (this.#pollers.has(fetcher)) continue;
      const poller = new Poller(fetcher, {
        intervalMs: this.options.pollIntervalMs,
        jitter: this.options.jitter,
        onResult: (result) => {
          this.#reportedRefusals.delete(fetcher);
          const reload = fetcher === this.#configFetcher ? this.#loadConfig(result.artifact) : Promise.resolve();
          void reload.then(() => {
            if (result.changed) this.engine.sourceChanged(fetcher);
          });
        },
        onError: (error) => this.#onPollError(fetcher, error),
      });
      this.#pollers.set(fetcher, poller);
      poller.start();
    }
  }
}

/** The certificate and key of `--tls-cert` / `--tls-key`, read once at start; an unreadable file is named. */
async function readTlsFiles(tls: { readonly certFile: string; readonly keyFile: string }): Promise<{ cert: Buffer; key: Buffer }> {
  const read = async (flag: string, file: string): Promise<Buffer> => {
    try {
      return await readFile(file);
    } catch (error) {
      throw stalled("TlsFileUnreadable", `${flag}: cannot read ${file}: ${(error as Error).message}`, { cause: error });
    }
  };
  return { cert: await read("--tls-cert", tls.certFile), key: await read("--tls-key", tls.keyFile) };
}
