import type { FerryError } from "../core/errors.js";
import { stalled, transient } from "../core/errors.js";
import { parseRetryAfter, RetryAfterError } from "./backoff.js";

/** An answer of a source, possibly the cached copy a 304 confirmed. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** True when the server answered 304 and the cached copy is returned. */
  readonly fromCache: boolean;
  /** The URL after redirects. */
  readonly url: string;
}

interface CacheEntry {
  readonly etag?: string;
  readonly lastModified?: string;
  readonly answer: HttpAnswer;
}

/** Cached answers kept per source; the oldest is dropped past this. */
const CACHE_LIMIT = 256;
/** One request may take this long before it is abandoned. */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * HTTP for watchers, gentle on registries: every GET whose earlier answer
 * carried an ETag or Last-Modified is sent conditionally (If-None-Match,
 * If-Modified-Since) and a 304 returns the cached answer; a 429 or 503 becomes
 * an error carrying its Retry-After, which the watcher's backoff honours.
 * Other statuses are returned for the caller to judge (see `statusError`).
 */
export class PoliteHttp {
  private readonly cache = new Map<string, CacheEntry>();

  constructor(
    private readonly source: string,
    private readonly doFetch: typeof fetch,
    private readonly now: () => number,
  ) {}

  /** Sends one request; conditional for GET when an earlier answer allows it. */
  async request(url: string, init: { method?: "GET" | "HEAD"; headers?: Record<string, string>; signal?: AbortSignal | undefined } = {}): Promise<HttpAnswer> {
    const method = init.method ?? "GET";
    const headers: Record<string, string> = { ...init.headers };
    const key = `${method} ${url} ${headers["Accept"] ?? ""}`;
    const cached = method === "GET" ? this.cache.get(key) : undefined;
    if (cached?.etag) headers["If-None-Match"] = cached.etag;
    if (cached?.lastModified) headers["If-Modified-Since"] = cached.lastModified;
    const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    let response: Response;
    try {
      response = await this.doFetch(url, { method, headers, signal: init.signal ? AbortSignal.any([init.signal, timeout]) : timeout });
    } catch (error) {
      if (init.signal?.aborted) throw error;
      const why = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
      throw transient("WatchSourceUnavailable", `${this.source}: ${method} ${redact(url)} failed: ${why}`, { cause: error });
    }
    if (response.status === 304 && cached) {
      await response.body?.cancel();
      return { ...cached.answer, fromCache: true };
    }
    const text = method === "HEAD" ? "" : await response.text();
    const answer: HttpAnswer = { status: response.status, headers: response.headers, text, fromCache: false, url: response.url || url };
    if (response.status === 429 || response.status === 503) {
      const error = transient("WatchRateLimited", `${this.source}: ${method} ${redact(url)} answered ${response.status}${retryNote(response.headers)}`);
      const after = parseRetryAfter(response.headers.get("Retry-After"), this.now());
      throw after === undefined ? error : new RetryAfterError(error, after);
    }
    if (method === "GET" && response.status === 200) {
      const etag = response.headers.get("ETag") ?? undefined;
      const lastModified = response.headers.get("Last-Modified") ?? undefined;
      if (etag !== undefined || lastModified !== undefined) this.remember(key, { ...(etag ? { etag } : {}), ...(lastModified ? { lastModified } : {}), answer });
    }
    return answer;
  }

  /** A GET whose answer must be 200 and JSON; anything else is an error naming the source and URL. */
  async getJson(url: string, headers: Record<string, string>, signal?: AbortSignal): Promise<{ body: unknown; answer: HttpAnswer }> {
    const answer = await this.request(url, { headers, signal });
    if (answer.status !== 200) throw this.statusError(answer, "GET");
    try {
      return { body: JSON.parse(answer.text) as unknown, answer };
    } catch (cause) {
      throw stalled("WatchSourceInvalid", `${this.source}: ${redact(url)} did not answer JSON: ${(cause as Error).message}`, { cause });
    }
  }

  /** The error for an unexpected status: 404 and other 4xx are stalled (the input must change), 5xx transient. */
  statusError(answer: HttpAnswer, method: string): FerryError {
    const detail = answer.text.trim().slice(0, 200);
    const message = `${this.source}: ${method} ${redact(answer.url)} answered ${answer.status}${detail ? `: ${detail}` : ""}`;
    if (answer.status >= 500) return transient("WatchSourceUnavailable", message);
    if (answer.status === 404) return stalled("WatchSourceNotFound", message);
    if (answer.status === 401 || answer.status === 403) return stalled("WatchUnauthorized", message);
    return stalled("WatchSourceInvalid", message);
  }

  private remember(key: string, entry: CacheEntry): void {
    this.cache.delete(key);
    this.cache.set(key, entry);
    if (this.cache.size > CACHE_LIMIT) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
  }
}

function retryNote(headers: Headers): string {
  const value = headers.get("Retry-After");
  return value === null ? "" : ` (Retry-After: ${value})`;
}

/** A URL without user info or query secrets (tokens in query strings are common for signed URLs). */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = "";
    parsed.password = "";
    for (const key of [...parsed.searchParams.keys()]) if (/token|signature|sig|key|secret/i.test(key)) parsed.searchParams.set(key, "redacted");
    return parsed.toString();
  } catch {
    return url;
  }
}
