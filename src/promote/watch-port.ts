/**
 * What the promotion controller needs of a watcher: the newest version in
 * artifact storage. The watchers themselves live in src/watch.
 */

/** A version found in artifact storage. */
export interface DiscoveredVersion {
  readonly version: string;
  readonly digest?: string;
  readonly url?: string;
}

/** Finds the newest version of one artifact. */
export interface VersionSource {
  readonly description: string;
  latest(signal?: AbortSignal): Promise<DiscoveredVersion | undefined>;
}

/** Makes the version source of a pipeline's `watch:` specification (as written); throws a stalled error for a bad one. */
export type VersionSourceFactory = (spec: Readonly<Record<string, unknown>>, pipeline: string) => VersionSource;
