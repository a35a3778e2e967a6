import type { RenderResult } from "../renderer.js";

/**
 * Renders by the digest of what they read (`digestRenderInputs`), so a
 * commit that changes nothing a tool reads does not run the tool again.
 * Least recently used entries go first once `capacity` is reached.
 */
export class RenderCache {
  readonly #entries = new Map<string, RenderResult>();
  readonly #capacity: number;

  constructor(capacity = 256) {
    this.#capacity = capacity;
  }

  /** The cached render for a digest, marked as recently used. */
  get(digest: string): RenderResult | undefined {
    const found = this.#entries.get(digest);
    if (found) {
      this.#entries.delete(digest);
      this.#entries.set(digest, found);
    }
    return found;
  }

  /** Stores a render that succeeded; renders with problems are not kept (the tool runs again and says why). */
  set(digest: string, result: RenderResult): void {
    if (result.problems.length > 0) return;
    this.#entries.delete(digest);
    this.#entries.set(digest, result);
    while (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}
