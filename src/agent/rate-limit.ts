/**
 * A token bucket per client: `burst` requests at once, refilled at `perSecond`.
 * Buckets of clients not seen for a while are forgotten, so memory stays bounded.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #burst: number;
  readonly #perSecond: number;
  readonly #maxClients: number;

  constructor(options: { burst: number; perSecond: number; maxClients?: number }) {
    this.#burst = options.burst;
    this.#perSecond = options.perSecond;
    this.#maxClients = options.maxClients ?? 10_000;
  }

  /** Takes one token for `client`; false when its bucket is empty (answer 429). */
  take(client: string, now = Date.now()): boolean {
    const bucket = this.#buckets.get(client) ?? { tokens: this.#burst, at: now };
    bucket.tokens = Math.min(this.#burst, bucket.tokens + ((now - bucket.at) / 1000) * this.#perSecond);
    bucket.at = now;
    // Re-inserting keeps the map ordered by last use: the first entry is the stalest.
    this.#buckets.delete(client);
    this.#buckets.set(client, bucket);
    if (this.#buckets.size > this.#maxClients) {
      const stalest = this.#buckets.keys().next().value;
      if (stalest !== undefined) this.#buckets.delete(stalest);
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
