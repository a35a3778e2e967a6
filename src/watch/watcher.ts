import { toFerryError } from "../core/errors.js";
import { Backoff } from "./backoff.js";
import { createDirectoryWatcher } from "./directory-watcher.js";
import { createHttpIndexWatcher } from "./http-index-watcher.js";
import { createNpmWatcher } from "./npm-watcher.js";
import { createOciWatcher } from "./oci-watcher.js";
import type { WatchSpec } from "./watch-spec.js";

/** A version a watcher found in artifact storage. */
export interface DiscoveredVersion {
  /** The version, e.g. `2.0.0` (the regex capture where the policy has a regex; a tag keeps its spelling, e.g. `v2.0.0`). */
  readonly version: string;
  /** `sha256:<hex>` of the artifact when known: directory: of the file; oci: the manifest digest; npm: from dist.integrity or shasum; http: the index's digest. */
  readonly digest?: string;
  /** Where to fetch it: directory: the absolute file path; http and npm: the tarball URL; oci: `repository:tag@digest`. */
  readonly url?: string;
}

/** Finds the newest version of one source of artifacts. */
export interface Watcher {
  /** What is watched, for messages: `directory /srv/artifacts (web-{version}.tar.gz)`. */
  readonly description: string;
  /**
   * The newest version the policy admits, or undefined when none does.
   * Throws a FerryError (transient or stalled) naming the source on failure;
   * after a failure it refuses to ask the source again before its backoff ends.
   */
  latest(signal?: AbortSignal): Promise<DiscoveredVersion | undefined>;
}

/** What a watcher may be given instead of the real thing (tests, the agent's clock). */
export interface WatcherOptions {
  /** The fetch used for HTTP sources. Default: the global fetch. */
  readonly fetch?: typeof fetch;
  /** The clock, ms since the epoch. Default: Date.now. */
  readonly now?: () => number;
  /** What a relative directory path is relative to. Default: the process's working directory. */
  readonly baseDir?: string;
  /** Jitter source in [0, 1). Default: Math.random. */
  readonly random?: () => number;
}

/** The options every watcher gets, defaults filled in. */
export interface ResolvedWatcherOptions {
  readonly fetch: typeof fetch;
  readonly now: () => number;
  readonly baseDir: string;
}

/** Creates the watcher a `watch:` block describes. Nothing is asked of the source until `latest()`. */
export function createWatcher(spec: WatchSpec, options: WatcherOptions = {}): Watcher {
  const resolved: ResolvedWatcherOptions = {
    fetch: options.fetch ?? fetch,
    now: options.now ?? Date.now,
    baseDir: options.baseDir ?? process.cwd(),
  };
  const inner = createInner(spec, resolved);
  const backoff = new Backoff(inner.description, resolved.now, options.random);
  return {
    description: inner.description,
    async latest(signal) {
      backoff.check();
      try {
        const found = await inner.latest(signal);
        backoff.succeeded();
        return found;
      } catch (error) {
        if (signal?.aborted) throw error;
        const ferryError = toFerryError(error, "WatchFailed");
        backoff.failed(ferryError);
        throw ferryError;
      }
    },
  };
}

function createInner(spec: WatchSpec, options: ResolvedWatcherOptions): Watcher {
  switch (spec.type) {
    case "directory":
      return createDirectoryWatcher(spec, options);
    case "http":
      return createHttpIndexWatcher(spec, options);
    case "npm":
      return createNpmWatcher(spec, options);
    case "oci":
      return createOciWatcher(spec, options);
  }
}
