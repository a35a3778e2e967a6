import { readFile, rm, writeFile } from "node:fs/promises";
import type { EngineListener } from "../engine/events.js";
import { historyEventOf } from "./from-engine.js";
import type { HistoryEventInput, HistoryStore } from "./types.js";
import { count } from "../core/text.js";

/** How a recorder reaches its store and what it does when the store is away. */
export interface RecorderOptions {
  /** Opens the store; called again after a failure until it works. */
  readonly open: () => Promise<HistoryStore>;
  /** Name of this agent in a shared history. */
  readonly agent: string;
  /** The environment of an application, from the configuration. */
  readonly environmentOf: (application: string) => string | undefined;
  /** Events still unwritten at stop go here, and come back at the next start. */
  readonly spillFile?: string;
  /** Events older than this are pruned (once an hour); default: keep everything. */
  readonly retentionMs?: number;
  /** Delay before a batch is written, so events of one sync go in one transaction. */
  readonly flushDelayMs?: number;
  readonly now?: () => Date;
  readonly log?: (message: string) => void;
}

const MAX_BATCH = 500;
const MAX_RETRY_MS = 30_000;
const PRUNE_EVERY_MS = 3_600_000;

/**
 * Writes engine events (and rollbacks, holds) to the history without ever
 * blocking the reconcile loop: events queue in memory and are written in
 * order, in batches. While the store is unreachable or full they stay queued
 * and the writes are retried with backoff; what is still queued at stop is
 * saved to a file and written after the next start. Nothing is lost.
 */
export class HistoryRecorder {
  readonly #options: RecorderOptions;
  readonly #queue: HistoryEventInput[] = [];
  readonly #environments = new Map<string, string>();
  #store: HistoryStore | undefined;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> | undefined;
  #failures = 0;
  #lastError: string | undefined;
  #lastPrune = 0;
  #stopped = false;

  constructor(options: RecorderOptions) {
    this.#options = options;
  }

  /** The listener to subscribe to the engine's events. */
  readonly listener: EngineListener = (event) => {
    if ("application" in event) this.#rememberEnvironment(event.application);
    const input = historyEventOf(event, this.#now(), (app) => this.#environments.get(app));
    if (input) this.record(input);
  };

  /** Queues one event for writing. */
  record(event: HistoryEventInput): void {
    this.#queue.push(event);
    this.#schedule(this.#options.flushDelayMs ?? 100);
  }

  /** Events not written yet. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Why the last write failed, while the queue is not drained. */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** Loads events a previous run could not write, and tries the store. */
  async start(): Promise<void> {
    const spill = this.#options.spillFile;
    if (spill) {
      let text: string | undefined;
      try {
        text = await readFile(spill, "utf8");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      }
      if (text !== undefined) {
        const saved = text
          .split("\n")
          .filter((l) => l.trim() !== "")
          .map((l) => JSON.parse(l) as HistoryEventInput);
        this.#queue.unshift(...saved);
        await rm(spill, { force: true });
        if (saved.length > 0) this.#log(`history: ${count(saved.length, "event")} saved by the last run will be written`);
      }
    }
    if (this.#queue.length > 0) this.#schedule(0);
  }

  /** The store, opened on first use. Throws when it cannot be reached. */
  async store(): Promise<HistoryStore> {
    this.#store ??= await this.#options.open();
    return this.#store;
  }

  /** Writes everything queued now; throws when the store refuses (the events stay queued). */
  async flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#writing) await this.#writing;
    while (this.#queue.length > 0) {
      const attempt = this.#writeBatch();
      this.#writing = attempt.then(
        () => undefined,
        () => undefined,
      );
      try {
        await attempt;
      } finally {
        this.#writing = undefined;
      }
    }
  }

  /** Writes what it can, saves the rest to the spill file, and closes the store. */
  async stop(): Promise<void> {
    this.#stopped = true;
    try {
      await this.flush();
    } catch (error) {
      this.#log(`history: cannot write ${this.#queue.length} events at stop: ${(error as Error).message}`);
    }
    if (this.#queue.length > 0 && this.#options.spillFile) {
      await writeFile(this.#options.spillFile, this.#queue.map((e) => JSON.stringify(e)).join("\n") + "\n", { mode: 0o600 });
      this.#log(`history: ${this.#queue.length} unwritten events saved to ${this.#options.spillFile}`);
      this.#queue.length = 0;
    }
    await this.#store?.close().catch(() => undefined);
    this.#store = undefined;
  }

  async #writeBatch(): Promise<void> {
    const batch = this.#queue.slice(0, MAX_BATCH);
    try {
      const store = await this.store();
      await store.append(batch, this.#options.agent);
    } catch (error) {
      const message = (error as Error).message;
      if (message !== this.#lastError) this.#log(`history: cannot write ${this.#queue.length} events, keeping them to retry: ${message}`);
      this.#lastError = message;
      this.#failures++;
      // A store that failed may hold a broken connection: open it afresh next time.
      const store = this.#store;
      this.#store = undefined;
      await store?.close().catch(() => undefined);
      this.#schedule(Math.min(MAX_RETRY_MS, 250 * 2 ** Math.min(this.#failures - 1, 10)));
      throw error;
    }
    this.#queue.splice(0, batch.length);
    if (this.#failures > 0) this.#log("history: writing again");
    this.#failures = 0;
    this.#lastError = undefined;
    await this.#pruneIfDue();
  }

  async #pruneIfDue(): Promise<void> {
    const retention = this.#options.retentionMs;
    const now = this.#now().getTime();
    if (retention === undefined || now - this.#lastPrune < PRUNE_EVERY_MS) return;
    this.#lastPrune = now;
    const removed = await (await this.store()).prune(new Date(now - retention));
    if (removed > 0) this.#log(`history: pruned ${removed} events older than the retention`);
  }

  #schedule(delayMs: number): void {
    if (this.#stopped || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      // A failed write schedules its own retry.
      this.flush().catch(() => undefined);
    }, delayMs);
    this.#timer.unref();
  }

  #rememberEnvironment(application: string): void {
    const environment = this.#options.environmentOf(application);
    if (environment !== undefined) this.#environments.set(application, environment);
  }

  #now(): Date {
    return (this.#options.now ?? (() => new Date()))();
  }

  #log(message: string): void {
    (this.#options.log ?? console.error)(message);
  }
}
