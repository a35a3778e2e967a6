/**
 * Remembers recent webhook deliveries so the same one is acted on once: a
 * replayed request is refused. A delivery is keyed on what its signature
 * covers (the body's HMAC for GitHub and Gitea, the signature over timestamp
 * and body for the generic receiver and registries), never on an unsigned
 * header. Bounded in size and time.
 */
export class ReplayGuard {
  readonly #seen = new Map<string, number>();
  readonly #maxEntries: number;
  readonly #ttlMs: number;

  constructor(options: { maxEntries?: number; ttlMs?: number } = {}) {
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#ttlMs = options.ttlMs ?? 24 * 3_600_000;
  }

  /** True the first time a delivery is seen (and records it); false for a replay. */
  firstTime(delivery: string, now = Date.now()): boolean {
    const seen = this.#seen.get(delivery);
    if (seen !== undefined && now - seen < this.#ttlMs) return false;
    this.#seen.delete(delivery);
    this.#seen.set(delivery, now);
    while (this.#seen.size > this.#maxEntries) {
      const oldest = this.#seen.keys().next().value;
      if (oldest === undefined) break;
      this.#seen.delete(oldest);
    }
    return true;
  }
}
