import { randomBytes } from "node:crypto";
import { join, resolve } from "node:path";
import type { Problem } from "../core/errors.js";
import { toFerryError } from "../core/errors.js";
import type { Revision } from "../core/ids.js";
import { shortRevision } from "../core/ids.js";
import type { Application } from "../config/application.js";
import { loadApplications } from "../config/load-config.js";
import { Engine } from "../engine/engine.js";
import type { ApplicationStatus } from "../engine/status.js";
import { loadManifestFiles } from "../render/load-files.js";
import { renderDirectory } from "../render/render.js";
import type { Artifact, SourceFetcher } from "../source/artifact.js";
import { Poller } from "../source/poller.js";
import { redactSecrets } from "../source/repository-url.js";
import { SourceRegistry } from "../source/source-registry.js";
import { FileRecordStore } from "../state/file-record-store.js";
import { createHostTarget } from "../targets/host/host-target.js";
import type { Target } from "../targets/target.js";
import type { ControlServer } from "./control-server.js";
import { startControlServer } from "./control-server.js";
import { clearAgentInfo, lockStateDir, saveAgentSettings, writeAgentInfo } from "./state-dir.js";

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
  readonly #sources: SourceRegistry;
  readonly #targets: Map<string, Target>;
  readonly #configFetcher: SourceFetcher;
  readonly #pollers = new Map<SourceFetcher, Poller>();
  #config: ConfigStatus;
  #server: ControlServer | undefined;
  #release: (() => void) | undefined;
  #configLoading: Promise<void> = Promise.resolve();
  /** False for one-shot commands (diff, sync) that run only what they are asked to. */
  #reconcile = true;

  constructor(options: AgentOptions) {
    this.options = { ...options, stateDir: resolve(options.stateDir), root: resolve(options.root) };
    this.#sources = new SourceRegistry(join(this.options.stateDir, "sources"));
    this.#configFetcher = this.#sources.fetcher(options.repo, options.ref);
    const host = createHostTarget({ root: this.options.root, stateDir: join(this.options.stateDir, "host") });
    this.#targets = new Map<string, Target>([[host.name, host]]);
    this.engine = new Engine({
      targets: this.#targets,
      fetcherFor: (app) => this.fetcherFor(app),
      store: new FileRecordStore(this.options.stateDir),
      ...(options.healthTimeoutMs !== undefined ? { healthTimeoutMs: options.healthTimeoutMs } : {}),
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    });
    this.#config = { repo: redactSecrets(options.repo), ref: options.ref, path: options.path, problems: [], applications: [] };
  }

  /** The shared fetcher of an application's source: its own repository and ref, or the configuration's. */
  fetcherFor(app: Application): SourceFetcher {
    return this.#sources.fetcher(app.spec.source.repoURL ?? this.options.repo, app.spec.source.ref ?? this.options.ref);
  }

  /** Takes the state directory, loads the configuration and starts the engine (and the control API when listening). */
  async start(options: { readonly poll?: boolean; readonly reconcile?: boolean } = {}): Promise<void> {
    this.#reconcile = options.reconcile ?? true;
    this.#release = await lockStateDir(this.options.stateDir);
    try {
      const { repo, ref, path, root } = this.options;
      await saveAgentSettings(this.options.stateDir, { repo, ref, path, root });
      await this.engine.start();
      await this.refreshConfig();
      if (this.options.listen) {
        const token = randomBytes(24).toString("base64url");
        this.#server = await startControlServer(this, { ...this.options.listen, token });
        await writeAgentInfo(this.options.stateDir, {
          pid: process.pid,
          url: this.#server.url,
          token,
          repo: this.options.repo,
          ref: this.options.ref,
          path: this.options.path,
          root: this.options.root,
          startedAt: new Date().toISOString(),
        });
      }
      if (options.poll ?? true) this.#ensurePollers();
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
    await this.engine.stop();
    for (const target of this.#targets.values()) await target.close();
    clearAgentInfo(this.options.stateDir);
    this.#release?.();
    this.#release = undefined;
  }

  /** The configuration's state. */
  config(): ConfigStatus {
    return this.#config;
  }

  /** Every application's status. */
  statuses(): ApplicationStatus[] {
    return this.engine.statuses();
  }

  /** Checks every source now (what a webhook or `ferry refresh` does) and queues what moved. */
  async refresh(): Promise<void> {
    await this.refreshConfig();
    const fetchers = new Set(this.engine.applications().map((a) => this.fetcherFor(a)));
    await Promise.all(
      [...fetchers].map(async (fetcher) => {
        const poller = this.#pollers.get(fetcher);
        try {
          const result = poller ? await poller.triggerNow() : await fetcher.refresh();
          if (!poller && result.changed) this.engine.sourceChanged(fetcher);
        } catch (error) {
          console.error(`refresh of ${redactSecrets(fetcher.url)} failed: ${toFerryError(error).message}`);
        }
      }),
    );
  }

  /**
   * Fetches the configuration and, when it is valid, hands its applications to
   * the engine. An invalid configuration is reported and the last good one stays.
   */
  async refreshConfig(): Promise<void> {
    const poller = this.#pollers.get(this.#configFetcher);
    const result = poller ? await poller.triggerNow() : await this.#configFetcher.refresh();
    await this.#loadConfig(result.artifact);
  }

  /** Loads one configuration revision; calls are serialized and a revision already seen is skipped. */
  #loadConfig(artifact: Artifact): Promise<void> {
    this.#configLoading = this.#configLoading.then(() => this.#applyConfig(artifact));
    return this.#configLoading;
  }

  async #applyConfig(artifact: Artifact): Promise<void> {
    if (artifact.revision === this.#config.lastAttemptedRevision) return;
    let problems: readonly Problem[];
    let applications: Application[] = [];
    try {
      const files = await loadManifestFiles(artifact.directory, this.options.path);
      const rendered = renderDirectory(files, {});
      problems = rendered.problems;
      if (problems.length === 0) ({ applications, problems } = loadApplications(rendered.objects));
    } catch (error) {
      problems = [{ severity: "error", message: `configuration at ${shortRevision(artifact.revision)}: ${toFerryError(error).message}` }];
    }
    const errors = problems.filter((p) => p.severity === "error");
    if (errors.length > 0) {
      this.#config = { ...this.#config, lastAttemptedRevision: artifact.revision, problems };
      this.engine.reportConfig({ type: "ConfigRejected", revision: artifact.revision, problems });
      return;
    }
    this.#config = { ...this.#config, revision: artifact.revision, lastAttemptedRevision: artifact.revision, problems, applications: applications.map((a) => a.name) };
    this.engine.setApplications(applications, { run: this.#reconcile });
    this.engine.reportConfig({ type: "ConfigLoaded", revision: artifact.revision, applications: applications.map((a) => a.name) });
    this.#ensurePollers();
  }

  /** One poller per fetcher in use; the configuration's poller reloads the configuration before waking applications. */
  #ensurePollers(): void {
    if (!this.#release) return;
    const fetchers = new Set<SourceFetcher>([this.#configFetcher, ...this.engine.applications().map((a) => this.fetcherFor(a))]);
    for (const fetcher of fetchers) {
      if (this.#pollers.has(fetcher)) continue;
      const poller = new Poller(fetcher, {
        intervalMs: this.options.pollIntervalMs,
        jitter: this.options.jitter,
        onResult: (result) => {
          const reload = fetcher === this.#configFetcher ? this.#loadConfig(result.artifact) : Promise.resolve();
          void reload.then(() => {
            if (result.changed) this.engine.sourceChanged(fetcher);
          });
        },
        onError: (error) => console.error(`polling ${redactSecrets(fetcher.url)} failed: ${toFerryError(error).message}`),
      });
      this.#pollers.set(fetcher, poller);
      poller.start();
    }
  }
}
