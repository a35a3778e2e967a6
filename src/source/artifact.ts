import type { FerryError } from "../core/errors.js";
import type { Digest, Revision } from "../core/ids.js";

/** The commit behind an artifact, as history and people want it. */
export interface CommitInfo {
  readonly author: string;
  readonly email: string;
  /** First line of the commit message. */
  readonly subject: string;
  /** ISO time of the commit. */
  readonly time: string;
}

/**
 * One commit of one repository, checked out read-only. Produced by the source
 * stage; nothing downstream calls git or changes the directory.
 */
export interface Artifact {
  /** The repository as configured (path or URL). */
  readonly url: string;
  /** The branch or tag it was fetched from. */
  readonly ref: string;
  readonly revision: Revision;
  /** sha256 over the commit's tree: equal trees give equal digests. */
  readonly digest: Digest;
  /** Absolute path of the read-only checkout of the whole tree. */
  readonly directory: string;
  readonly commit: CommitInfo;
}

/** What one check of a source found. */
export interface RefreshResult {
  readonly artifact: Artifact;
  /** True when the revision differs from the one before this refresh, or a refused revision gave way to it. */
  readonly changed: boolean;
  /** True when a `git fetch` ran (false when `ls-remote` showed nothing moved). */
  readonly fetched: boolean;
}

/** A commit the source would not turn into an artifact (its signature did not verify). */
export interface SourceRefusal {
  readonly revision: Revision;
  /** A stalled error naming the revision, the signer if any, and what was wrong. */
  readonly error: FerryError;
}

/** Fetches one (repository, ref) and turns commits into artifacts. Shared by every application reading it. */
export interface SourceFetcher {
  readonly url: string;
  readonly ref: string;
  /** Asks the remote for the ref's commit (cheap) and fetches only when it moved. Concurrent calls share one run. */
  refresh(): Promise<RefreshResult>;
  /**
   * A verified push of this ref named its new commit: the next refresh takes
   * exactly it, unless it is older than the current one. Absent: pushes only
   * make the next refresh come sooner.
   */
  notePush?(revision: string): void;
  /** The artifact of the last successful refresh, if any. */
  current(): Artifact | undefined;
  /** The artifact of one commit (an earlier good revision, a rollback target), fetched when not cached. */
  artifactAt(revision: string): Promise<Artifact>;
  /**
   * The newest commit of the ref when it was refused, while `current()` stays
   * the last accepted one; `refresh()` throws its error until the ref moves on.
   */
  refusal?(): SourceRefusal | undefined;
  /** The full commit id a commit id or prefix (7+ hex digits) of this repository names; undefined when unknown. */
  resolveCommit?(idOrPrefix: string): Promise<Revision | undefined>;
  /**
   * The repository paths that differ between two revisions of this source
   * (what `git diff --name-only` lists), or undefined when that cannot be
   * told (a revision is not here): then anything may have changed.
   */
  changedPaths?(from: Revision, to: Revision): Promise<readonly string[] | undefined>;
  /** How often the remote was asked and fetched from, for metrics. */
  stats?(): { readonly lsRemote: number; readonly fetches: number };
}
