import { createHash } from "node:crypto";
import { join } from "node:path";
import type { FerryError } from "../core/errors.js";
import { stalled, toFerryError } from "../core/errors.js";
import type { Digest, Revision } from "../core/ids.js";
import { asDigest, asRevision } from "../core/ids.js";
import type { Artifact, CommitInfo, RefreshResult, SourceFetcher, SourceRefusal } from "./artifact.js";
import { ArtifactStore } from "./artifact-store.js";
import { BareRepository } from "./bare-repository.js";
import { checkoutIncrementally } from "./incremental-checkout.js";
import { runGit } from "./git.js";
import type { RemoteRef } from "./remote-ref.js";
import { lsRemotePatterns, refProblem, resolveRemoteRef } from "./remote-ref.js";
import { normalizeRepositoryUrl, redactSecrets, repositoryKey, repositoryProblem } from "./repository-url.js";
import type { CommitVerifier } from "./signature-verifier.js";

/** Settings of one git fetcher. */
export interface GitFetcherOptions {
  /** Holds `repos/` (bare repositories) and `artifacts/` (checkouts); created when absent. */
  readonly cacheDir: string;
  /** Artifacts of this source kept after a refresh, most recently used first. Default 5. */
  readonly keepArtifacts?: number;
  /** Time limit of `ls-remote` and `fetch`. Default 120 s. */
  readonly networkTimeoutMs?: number;
  /** Base of relative repository paths. Default: the process's working directory. */
  readonly cwd?: string;
  /** Told when removing old artifacts fails; the refresh still succeeds. Default: a process warning. */
  readonly onCleanupError?: (error: FerryError) => void;
  /** Checks every commit (its signature) before it becomes an artifact; none: every commit is used. */
  readonly verifier?: CommitVerifier;
}

/** How much network work a fetcher did, for metrics. */
export interface FetcherStats {
  readonly lsRemote: number;
  readonly fetches: number;
}

/** Default number of artifacts kept per source. */
export const DEFAULT_KEEP_ARTIFACTS = 5;

/** How many past revisions a fetcher remembers, to tell a late push from a new one. */
const SEEN_LIMIT = 1000;

let nextOwnerId = 0;

/**
 * Turns one (repository, ref) into artifacts with the git CLI: `ls-remote` to
 * see whether the ref moved, a shallow fetch only when the commit is not here
 * yet, and one read-only checkout per commit.
 */
export class GitFetcher implements SourceFetcher {
  /** The repository as configured. Artifacts carry it with credentials masked. */
  readonly url: string;
  readonly ref: string;
  /** What git is given: the URL, or a local path as an absolute `file://` URL. */
  readonly remoteUrl: string;
  readonly #cacheDir: string;
  readonly #keep: number;
  readonly #networkTimeoutMs: number;
  readonly #onCleanupError: (error: FerryError) => void;
  readonly #store: ArtifactStore;
  readonly #owner: string;
  readonly #verifier: CommitVerifier | undefined;
  readonly #metadata = new Map<Revision, Promise<{ digest: Digest; commit: CommitInfo }>>();
  readonly #pendingRevisions = new Map<Revision, Promise<Artifact>>();
  readonly #changes = new Map<string, Promise<readonly string[] | undefined>>();
  #repository: Promise<BareRepository> | undefined;
  #current: Artifact | undefined;
  #refusal: SourceRefusal | undefined;
  /** The tag object of the refused ref, when it was an annotated tag. */
  #refusedTag: string | undefined;
  #refreshing: Promise<RefreshResult> | undefined;
  /** The commit a push named, for the next refresh to fetch exactly (see notePush). */
  #pushed: string | undefined;
  /** Revisions that were current here (the newest SEEN_LIMIT): a push naming one is not news. */
  readonly #seen = new Set<string>();
  #lsRemote = 0;
  #fetches = 0;

  /** Throws a stalled `InvalidSource` error when the repository or ref cannot be valid. */
  constructor(url: string, ref: string, options: GitFetcherOptions) {
    const problem = repositoryProblem(url) ?? refProblem(ref);
    if (problem !== undefined) throw stalled("InvalidSource", problem);
    this.url = url;
    this.ref = ref;
    this.remoteUrl = normalizeRepositoryUrl(url, options.cwd);
    this.#cacheDir = options.cacheDir;
    this.#keep = Math.max(1, options.keepArtifacts ?? DEFAULT_KEEP_ARTIFACTS);
    this.#networkTimeoutMs = options.networkTimeoutMs ?? 120_000;
    this.#onCleanupError = options.onCleanupError ?? ((error) => process.emitWarning(error.message, { code: error.reason }));
    this.#store = ArtifactStore.at(join(options.cacheDir, "artifacts"));
    this.#owner = `${this.remoteUrl} ${ref} #${nextOwnerId++}`;
    this.#verifier = options.verifier;
  }

  /** Asks the remote for the ref's commit and fetches only when the commit is new here. Concurrent calls share one run. */
  refresh(): Promise<RefreshResult> {
    // A push noted while a refresh is under way is for the next one, not for one that started before it.
    if (this.#refreshing && this.#pushed !== undefined) return this.#refreshing.catch(() => undefined).then(() => this.refresh());
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  /**
   * A verified push of this ref named its new commit (`after`): the next
   * refresh fetches exactly that commit instead of asking the remote where
   * the ref is, so a push that lands between two polls is applied at that
   * commit. A commit that was current here before, or older (committer time)
   * than the current one, is not taken: the refresh asks the remote as a poll
   * does, and so a late webhook never moves the source backwards.
   */
  notePush(revision: string): void {
    if (/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(revision) && !/^0+$/.test(revision)) this.#pushed = revision;
  }

  /** The artifact of the last successful refresh, if any. */
  current(): Artifact | undefined {
    return this.#current;
  }

  /** The newest commit of the ref when it was refused; `current()` stays the last accepted one. */
  refusal(): SourceRefusal | undefined {
    return this.#refusal;
  }

  /** Number of `ls-remote` runs and fetches so far. */
  stats(): FetcherStats {
    return { lsRemote: this.#lsRemote, fetches: this.#fetches };
  }

  /**
   * The artifact of any commit of the repository (for rollback), fetched by id
   * when it is not here. It does not become `current()`.
   */
  artifactAt(revision: string): Promise<Artifact> {
    let commit: Revision;
    try {
      commit = asRevision(revision);
    } catch (error) {
      return Promise.reject(stalled("InvalidRevision", `${JSON.stringify(revision)} is not a full commit id`, { cause: error }));
    }
    if (this.#current?.revision === commit) return Promise.resolve(this.#current);
    let pending = this.#pendingRevisions.get(commit);
    if (!pending) {
      pending = this.#artifactAt(commit).finally(() => this.#pendingRevisions.delete(commit));
      this.#pendingRevisions.set(commit, pending);
    }
    return pending;
  }

  /**
   * The full commit id a commit id or prefix (7 or more hex digits) names:
   * found among the commits fetched here, else among the tips of the remote's
   * branches and tags (a pull request's head is one). Undefined when neither
   * knows it or the prefix is ambiguous; a full id is taken as it is.
   */
  async resolveCommit(idOrPrefix: string): Promise<Revision | undefined> {
    const id = idOrPrefix.toLowerCase();
    if (!/^[0-9a-f]{7,64}$/.test(id)) return undefined;
    if (/^([0-9a-f]{40}|[0-9a-f]{64})$/.test(id)) return asRevision(id);
    const repository = await this.#openRepository();
    const local = await repository.resolveCommit(id);
    if (local !== undefined) return asRevision(local);
    this.#lsRemote++;
    const output = await runGit(["ls-remote", "--", this.remoteUrl], { cwd: repository.directory, timeoutMs: this.#networkTimeoutMs });
    const tips = new Set(output.split("\n").flatMap((line) => /^([0-9a-f]{40,64})\t/.exec(line)?.[1] ?? []));
    const matches = [...tips].filter((commit) => commit.startsWith(id));
    return matches.length === 1 && matches[0] ? asRevision(matches[0]) : undefined;
  }

  /** The paths that differ between two revisions (cached per pair: every application of the source asks); undefined when unknown. */
  changedPaths(from: Revision, to: Revision): Promise<readonly string[] | undefined> {
    const key = `${from}..${to}`;
    let pending = this.#changes.get(key);
    if (!pending) {
      pending = this.#openRepository()
        .then((repository) => repository.changedPaths(from, to))
        .catch(() => undefined);
      // Only the newest few pairs are asked for: a new revision is diffed once against the one before.
      if (this.#changes.size >= 8) this.#changes.delete(this.#changes.keys().next().value as string);
      this.#changes.set(key, pending);
    }
    return pending;
  }

  /** Removes artifacts this source no longer needs, keeping the current one and the `keep` most recently used. */
  async pruneArtifacts(keep: number = this.#keep): Promise<readonly Revision[]> {
    const pinned = this.#current ? [this.#current.revision] : [];
    return this.#store.prune(this.#owner, keep, pinned);
  }

  async #refresh(): Promise<RefreshResult> {
    const repository = await this.#openRepository();
    const previous = this.#current;
    const refused = this.#refusal;
    const pushed = this.#pushed;
    this.#pushed = undefined;
    // While a revision is refused the remote is asked: only the ref moving on clears a refusal.
    const remote = (pushed !== undefined && refused === undefined ? await this.#pushedRef(repository, pushed, previous) : undefined) ?? (await this.#resolveRef(repository));
    if (previous?.revision === remote.commit) {
      this.#refusal = undefined;
      // Back from a refused revision to the accepted one: the status that named the refusal must be redone.
      return { artifact: previous, changed: refused !== undefined, fetched: false };
    }
    // A refused revision is not fetched or checked again (its verdict cannot change).
    if (refused?.revision === remote.commit && this.#refusedTag === remote.tagObject) throw refused.error;
    let commit = remote.commit;
    let fetched = false;
    if (!(await repository.hasCommit(commit))) {
      // Fetch the ref, not the id: every server allows it. The ref may have moved on since ls-remote; its newer commit is fine.
      commit = await this.#fetch(repository, remote.name);
      fetched = true;
    }
    const revision = asRevision(commit);
    try {
      await this.#verifier?.verify(repository.directory, revision);
      // An annotated tag is signed on its own: its signature must be good too. A lightweight tag has none; its commit's counts.
      if (remote.tagObject !== undefined && this.#verifier?.verifyTag) {
        if (!(await repository.hasObject(remote.tagObject))) {
          await this.#fetch(repository, remote.name);
          fetched = true;
        }
        await this.#verifier.verifyTag(repository.directory, remote.tagObject, remote.name.replace(/^refs\/tags\//, ""));
      }
    } catch (error) {
      const e = toFerryError(error, "VerificationFailed");
      // Only a verdict on the commit (and tag) is remembered; a verifier that could not run is asked again next time.
      if (e.disposition === "stalled") {
        this.#refusal = { revision, error: e };
        this.#refusedTag = remote.tagObject;
      }
      throw e;
    }
    this.#refusal = undefined;
    const artifact = await this.#artifactOf(repository, revision);
    this.#current = artifact;
    this.#seen.delete(revision);
    this.#seen.add(revision);
    if (this.#seen.size > SEEN_LIMIT) this.#seen.delete(this.#seen.values().next().value as string);
    try {
      await this.pruneArtifacts();
    } catch (error) {
      this.#onCleanupError(toFerryError(error, "CleanupFailed"));
    }
    return { artifact, changed: previous?.revision !== artifact.revision || refused !== undefined, fetched };
  }

  async #artifactAt(commit: Revision): Promise<Artifact> {
    const repository = await this.#openRepository();
    if (!(await repository.hasCommit(commit))) await this.#fetch(repository, commit);
    await this.#verifier?.verify(repository.directory, commit);
    return this.#artifactOf(repository, commit);
  }

  /**
   * The commit a push named as the ref's new commit, fetched by id; undefined
   * (ask the remote) when it was current here before, is older than the
   * current one, or cannot be fetched by id.
   */
  async #pushedRef(repository: BareRepository, pushed: string, previous: Artifact | undefined): Promise<RemoteRef | undefined> {
    const name = `refs/heads/${this.ref}`;
    if (pushed === previous?.revision) return { name, commit: pushed };
    if (this.#seen.has(pushed)) return undefined;
    try {
      if (!(await repository.hasCommit(pushed))) await this.#fetch(repository, pushed);
      if (previous && Date.parse((await repository.commitInfo(pushed)).time) < Date.parse(previous.commit.time)) return undefined;
    } catch {
      return undefined;
    }
    return { name, commit: pushed };
  }

  async #resolveRef(repository: BareRepository): Promise<RemoteRef> {
    this.#lsRemote++;
    const output = await runGit(["ls-remote", "--", this.remoteUrl, ...lsRemotePatterns(this.ref)], {
      cwd: repository.directory,
      timeoutMs: this.#networkTimeoutMs,
    });
    const remote = resolveRemoteRef(output, this.ref);
    if (!remote) throw stalled("RefNotFound", `ref ${JSON.stringify(this.ref)} not found in ${redactSecrets(this.remoteUrl)}`);
    return remote;
  }

  #fetch(repository: BareRepository, source: string): Promise<string> {
    this.#fetches++;
    return repository.fetch(this.remoteUrl, source);
  }

  async #artifactOf(repository: BareRepository, revision: Revision): Promise<Artifact> {
    // Retained before it exists, so a prune running meanwhile leaves it alone.
    this.#store.retain(this.#owner, revision);
    // From the current artifact when there is one: only what changed since is written.
    const base = this.#current;
    const directory = await this.#store.materialize(revision, async (target) => {
      if (base && base.revision !== revision && (await checkoutIncrementally(repository, base, revision, target))) return "read-only";
      await repository.checkout(revision, target);
    });
    const { digest, commit } = await this.#metadataOf(repository, revision);
    return { url: redactSecrets(this.url), ref: this.ref, revision, digest, directory, commit };
  }

  #metadataOf(repository: BareRepository, revision: Revision): Promise<{ digest: Digest; commit: CommitInfo }> {
    let metadata = this.#metadata.get(revision);
    if (!metadata) {
      metadata = (async () => {
        const tree = await repository.treeOf(revision);
        const commit = await repository.commitInfo(revision);
        return { digest: asDigest(`sha256:${createHash("sha256").update(tree).digest("hex")}`), commit };
      })();
      this.#metadata.set(revision, metadata);
      metadata.catch(() => this.#metadata.delete(revision));
    }
    return metadata;
  }

  #openRepository(): Promise<BareRepository> {
    if (!this.#repository) {
      const directory = join(this.#cacheDir, "repos", repositoryKey(this.remoteUrl));
      this.#repository = BareRepository.open(directory, this.#networkTimeoutMs);
      this.#repository.catch(() => {
        this.#repository = undefined;
      });
    }
    return this.#repository;
  }
}
