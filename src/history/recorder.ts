import { open, readFile, rename, rm } from "node:fs/promises";
import type { EngineEvent } from "../engine/events.js";
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
  /**
   * Events the store could not take (it is away, or stopping) go here, synced
   * to disk, and come back at the next start: a crash loses none of them.
   */
  readonly spillFile?: string;
  /** Events older than this are pruned (once an hour); default: keep everything. */
  readonly retentionMs?: number;
  /**
   * Delay before a batch is written (default 0: at the next turn of the event
   * loop). Events that arrive together, or while a write is under way, go in
   * one transaction either way.
   */
  readonly flushDelayMs?: number;
  readonly now?: () => Date;
  readonly log?: (message: string) => void;
}

const MAX_BATCH = 500;
const MAX_RETRY_MS = 30_000;
const PRUNE_EVERY_MS = 3_600_000;

/** An event waiting to be written, with whoever waits for it to be durable. */
interface Queued {
  readonly event: HistoryEventInput;
  readonly durable: () => void;
}

/** Replaces a file whole (a temporary file synced, then renamed): a crash leaves the old content or the new. */
async function writeSynced(file: string, text: string): Promise<void> {
  const temporary = `${file}.tmp`;
  const handle = await open(temporary, "w", 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
}

/**
 * Writes engine events (and rollbacks, holds) to the history. Every event
 * is durable before the promise `record` (and the listener) returns resolves:
 * written to the store, or, while the store is unreachable or full, synced to
 * the spill file, from which it is written after the store is back (or after
 * the next start). The engine waits on that promise before its status reports
 * what the event is about, so the history always answers what the status
 * shows. Writes are batched: what arrives while one is under way goes in the
 * next, in order. Nothing is lost, even on a crash.
 */
export class HistoryRecorder {
  readonly #options: RecorderOptions;
  readonly #queue: Queued[] = [];
  readonly #environments = new Map<string, string>();
  #store: HistoryStore | undefined;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> | undefined;
  #failures = 0;
  #lastError: string | undefined;
  #lastPrune = 0;
  #stopped = false;
  /** True while the spill file may hold events of the queue: it is rewritten as they are written. */
  #spilled = false;
  #spilling: Promise<void> = Promise.resolve();

  constructor(options: RecorderOptions) {
    this.#options = options;
  }

  /** The listener to subscribe to the engine's events; resolves once the event (if kept) is durable. */
  readonly listener = (event: EngineEvent): Promise<void> | undefined => {
    if ("application" in event) this.#rememberEnvironment(event.application);
    const input = historyEventOf(event, this.#now(), (app) => this.#environments.get(app));
    return input ? this.record(input) : undefined;
  };

  /** Queues one event for writing; resolves once it is durable (in the store, or in the spill file). Never rejects. */
  record(event: HistoryEventInput): Promise<void> {
    let durable: () => void = () => undefined;
    const written = new Promise<void>((resolve) => (durable = resolve));
    this.#queue.push({ event, durable });
    // After stop nothing writes to the store any more: the spill file keeps it for the next start.
    if (this.#stopped) void this.#spill();
    else this.#schedule(this.#options.flushDelayMs ?? 0);
    return written;
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
      // A crash in the middle of replacing the spill file leaves its temporary copy: the file itself is whole.
      await rm(`${spill}.tmp`, { force: true });
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
          .map((l): Queued => ({ event: JSON.parse(l) as HistoryEventInput, durable: () => undefined }));
        this.#queue.unshift(...saved);
        // The file stays until its events are in the store: a crash before then loses nothing.
        this.#spilled = true;
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
      await this.#spill();
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
      await store.append(
        batch.map((q) => q.event),
        this.#options.agent,
      );
    } catch (error) {
      const message = (error as Error).message;
      if (message !== this.#lastError) this.#log(`history: cannot write ${this.#queue.length} events, keeping them to retry: ${message}`);
      this.#lastError = message;
      this.#failures++;
      // A store that failed may hold a broken connection: open it afresh next time.
      const store = this.#store;
      this.#store = undefined;
      await store?.close().catch(() => undefined);
      // Whoever waits on these events goes on once they are safe on disk; the store gets them later.
      await this.#spill();
      this.#schedule(Math.min(MAX_RETRY_MS, 250 * 2 ** Math.min(this.#failures - 1, 10)));
      throw error;
    }
    this.#queue.splice(0, batch.length);
    for (const queued of batch) queued.durable();
    if (this.#spilled) await this.#spill();
    if (this.#failures > 0) this.#log("history: writing again");
    this.#failures = 0;
    this.#lastError = undefined;
    await this.#pruneIfDue();
  }

  /**
   * Makes the spill file hold exactly the queue (removed when it is empty),
   * replaced whole and synced, then tells the queue's waiters their events are
   * durable. Without a spill file they are told at once: nowhere else to keep them.
   */
  #spill(): Promise<void> {
    this.#spilling = this.#spilling.then(async () => {
      const file = this.#options.spillFile;
      const queued = [...this.#queue];
      if (file) {
        try {
          if (queued.length === 0) await rm(file, { force: true });
          else await writeSynced(file, queued.map((q) => JSON.stringify(q.event)).join("\n") + "\n");
          this.#spilled = queued.length > 0;
        } catch (error) {
          this.#log(`history: cannot save ${queued.length} unwritten events to ${file}: ${(error as Error).message}`);
        }
      }
      for (const q of queued) q.durable();
    });
    return this.#spilling;
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
    // A retry later does not hold the process open; a write about to happen (someone may wait on it) does.
    if (delayMs > 0) this.#timer.unref();
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
