import { FerryError, transient } from "../core/errors.js";

/** The first delay after a failure; it doubles with each failure in a row. */
export const BACKOFF_BASE_MS = 5_000;
/** The longest delay between two attempts after failures. */
export const BACKOFF_MAX_MS = 15 * 60_000;

/** What a failure asks of the next attempt: at least this long a pause (a `Retry-After`). */
export class RetryAfterError extends FerryError {
  readonly retryAfterMs: number;
  constructor(error: FerryError, retryAfterMs: number) {
    super(error.disposition, error.reason, error.message, { problems: error.problems, cause: error.cause });
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * Remembers failures of one source and refuses to call it again before the
 * pause ends: `BACKOFF_BASE_MS * 2^(failures-1)` capped at `BACKOFF_MAX_MS`,
 * with jitter (a random 50–100% of it) so many watchers do not retry in step,
 * and never shorter than a `Retry-After` the source asked for.
 */
export class Backoff {
  private failures = 0;
  private notBefore = 0;
  private lastError: FerryError | undefined;

  constructor(
    private readonly source: string,
    private readonly now: () => number,
    private readonly random: () => number = Math.random,
  ) {}

  /** Throws a transient error saying until when, if the pause after the last failure has not ended. */
  check(): void {
    const now = this.now();
    if (now >= this.notBefore || this.lastError === undefined) return;
    throw transient(
      "WatchBackoff",
      `${this.source}: not asking again before ${new Date(this.notBefore).toISOString()} after ${this.failures} failure${this.failures === 1 ? "" : "s"} in a row: ${this.lastError.message}`,
      { cause: this.lastError },
    );
  }

  /** Records a success: the next failure starts from the base delay again. */
  succeeded(): void {
    this.failures = 0;
    this.notBefore = 0;
    this.lastError = undefined;
  }

  /** Records a failure and returns when the next attempt may be made. */
  failed(error: FerryError): number {
    this.failures += 1;
    this.lastError = error;
    const exponential = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(this.failures - 1, 30));
    const jittered = exponential * (0.5 + 0.5 * this.random());
    const asked = error instanceof RetryAfterError ? error.retryAfterMs : 0;
    this.notBefore = this.now() + Math.max(jittered, asked);
    return this.notBefore;
  }
}

/**
 * Parses a `Retry-After` header (seconds, or an HTTP date) into milliseconds
 * from `now`; undefined when absent or unreadable.
 */
export function parseRetryAfter(header: string | null, now: number): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
