import type { RefreshResult, SourceFetcher } from "./artifact.js";

/** How a poller polls and whom it tells. */
export interface PollerOptions {
  /** Time between the end of one poll and the start of the next, before jitter. */
  readonly intervalMs: number;
  /** Fraction (0..1) by which each delay may vary either way, so many pollers do not hit a server in step. */
  readonly jitter?: number;
  /** Told about every successful poll, changed or not. */
  readonly onResult?: (result: RefreshResult) => void;
  /** Told about every failed poll (and about an `onResult` that threw). */
  readonly onError?: (error: unknown) => void;
  /** Source of randomness in [0, 1); replaceable for tests. */
  readonly random?: () => number;
}

/** The delay before the next poll: `interval * (1 ± random * jitter)`, never negative. */
export function nextPollDelay(intervalMs: number, jitter: number, random: number): number {
  const spread = Math.min(1, Math.max(0, jitter));
  return Math.max(0, Math.round(intervalMs * (1 + (2 * random - 1) * spread)));
}

/**
 * Polls one fetcher on a jittered interval and on demand (a webhook, the CLI).
 * Polls never overlap: a trigger during a poll runs once right after it, and
 * any number of such triggers share that one run. Timers are unref'd, so a
 * poller never keeps the process alive by itself.
 */
export class Poller {
  readonly #fetcher: Pick<SourceFetcher, "refresh">;
  readonly #options: PollerOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<RefreshResult> | undefined;
  #queued: Promise<RefreshResult> | undefined;
  #started = false;

  constructor(fetcher: Pick<SourceFetcher, "refresh">, options: PollerOptions) {
    this.#fetcher = fetcher;
    this.#options = options;
  }

  /** Polls now, then on the interval until `stop()`. Starting twice does nothing. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#runInBackground();
  }

  /** Stops polling. A poll under way finishes; its result is still reported. */
  stop(): void {
    this.#started = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Polls as soon as no other poll runs and resolves with that poll's result. The interval restarts after it. */
  triggerNow(): Promise<RefreshResult> {
    if (this.#queued) return this.#queued;
    if (!this.#running) return this.#poll();
    // The running poll may have asked the remote before the change that caused this trigger, so it cannot answer it.
    const queued = this.#running
      .catch(() => undefined)
      .then(() => {
        this.#queued = undefined;
        return this.#poll();
      });
    this.#queued = queued;
    return queued;
  }

  #runInBackground(): void {
    if (this.#running || this.#queued) return;
    // Failures are reported through onError; the timer path has nobody else to tell.
    this.#poll().catch(() => undefined);
  }

  #poll(): Promise<RefreshResult> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const run = this.#refreshAndReport().finally(() => {
      this.#running = undefined;
      this.#schedule();
    });
    this.#running = run;
    return run;
  }

  async #refreshAndReport(): Promise<RefreshResult> {
    let result: RefreshResult;
    try {
      result = await this.#fetcher.refresh();
    } catch (error) {
      this.#report(() => this.#options.onError?.(error));
      throw error;
    }
    this.#report(() => this.#options.onResult?.(result));
    return result;
  }

  #report(notify: () => void): void {
    try {
      notify();
    } catch (error) {
      // A listener that throws must not stop polling; it is told like any other failure.
      if (this.#options.onError) this.#options.onError(error);
    }
  }

  #schedule(): void {
    if (!this.#started || this.#queued) return;
    clearTimeout(this.#timer);
    const delay = nextPollDelay(this.#options.intervalMs, this.#options.jitter ?? 0, (this.#options.random ?? Math.random)());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#runInBackground();
    }, delay);
    this.#timer.unref();
  }
}
