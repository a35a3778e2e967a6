import type { GitFetcherOptions } from "./git-fetcher.js";
import { GitFetcher } from "./git-fetcher.js";
import { normalizeRepositoryUrl } from "./repository-url.js";

/** Settings shared by every fetcher of a registry. */
export type SourceRegistryOptions = Omit<GitFetcherOptions, "cacheDir">;

/**
 * One fetcher per (repository, ref), shared by every application that reads
 * it, so ten applications in one repository cost one `ls-remote` per poll.
 */
export class SourceRegistry {
  readonly cacheDir: string;
  readonly #options: SourceRegistryOptions;
  readonly #fetchers = new Map<string, GitFetcher>();

  constructor(cacheDir: string, options: SourceRegistryOptions = {}) {
    this.cacheDir = cacheDir;
    this.#options = options;
  }

  /**
   * The fetcher of a repository and ref, created on first use. `./repo`,
   * `/abs/repo` and `file:///abs/repo` name the same repository. Throws a
   * stalled `InvalidSource` error for a repository or ref that cannot be valid.
   */
  fetcher(url: string, ref: string): GitFetcher {
    const key = `${normalizeRepositoryUrl(url, this.#options.cwd)}\n${ref}`;
    let fetcher = this.#fetchers.get(key);
    if (!fetcher) {
      fetcher = new GitFetcher(url, ref, { ...this.#options, cacheDir: this.cacheDir });
      this.#fetchers.set(key, fetcher);
    }
    return fetcher;
  }

  /** Every fetcher created so far, for metrics and status pages. */
  all(): readonly GitFetcher[] {
    return [...this.#fetchers.values()];
  }
}
