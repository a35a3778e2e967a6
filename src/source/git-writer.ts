import { randomBytes } from "node:crypto";
import { mkdir, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { ErrorDisposition } from "../core/errors.js";
import { FerryError, stalled } from "../core/errors.js";
import { shortRevision } from "../core/ids.js";
import type { GitOutput } from "./git.js";
import { isDirectory } from "./bare-repository.js";
import { execGit, gitFailure, runGit } from "./git.js";
import { refProblem } from "./remote-ref.js";
import { normalizeRepositoryUrl, redactSecrets, repositoryKey, repositoryProblem } from "./repository-url.js";

/** Who a commit is written as: its author, and its committer (the author too when absent). */
export interface CommitIdentity {
  readonly name: string;
  readonly email: string;
  /** The committer, when it is someone else (`GIT_COMMITTER_NAME` differs from the author). */
  readonly committer?: { readonly name: string; readonly email: string };
}

/** One directory of a branch to be put back to how it was at an earlier commit. */
export interface RestoreRequest {
  /** repository as configured: a local path or a URL (file://, https://, ssh) */
  readonly url: string;
  /** branch to commit to */
  readonly ref: string;
  /** directory inside the repository, normalized, e.g. "apps/web" ("." = whole repo) */
  readonly path: string;
  /** full commit id whose content of `path` is restored */
  readonly revision: string;
  /** full commit message (subject, blank line, body, trailers) */
  readonly message: string;
  readonly author: CommitIdentity;
  /** working clones live under here, one per repository URL (hash of the url as folder name) */
  readonly workDir: string;
  /** push attempts when the branch moved meanwhile (default 5) */
  readonly attempts?: number;
  /** `-c` settings that make `git commit -S` sign, and its environment; unsigned without */
  readonly signing?: CommitSigningSettings;
}

/** How `git commit -S` signs: its `-c` settings (gpg.format, user.signingkey, ...) and environment. */
export interface CommitSigningSettings {
  readonly config: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

/** The commit that was pushed, on top of which branch head, after how many attempts, and what it changed. */
export interface RestoreResult {
  readonly commit: string;
  readonly parent: string;
  readonly attempts: number;
  readonly changedFiles: readonly string[];
}

/** The directory already has the requested content on the branch: there is nothing to commit or push. */
export class NothingToCommitError extends FerryError {
  constructor(message: string) {
    super("stalled", "NothingToCommit", message);
  }
}

/** The repository refused the push (a hook, permissions, a dirty working tree), or the branch kept moving. */
export class PushRejectedError extends FerryError {
  constructor(message: string, disposition: ErrorDisposition = "stalled") {
    super(disposition, "PushRejected", message);
  }
}

/** Push attempts when nobody says otherwise. */
export const DEFAULT_PUSH_ATTEMPTS = 5;

const NETWORK_TIMEOUT_MS = 120_000;

/**
 * Lets a push into a local non-bare repository move its checked-out branch and
 * update its work tree, as long as that work tree is clean.
 */
const UPDATE_INSTEAD = "--receive-pack=git -c receive.denyCurrentBranch=updateInstead receive-pack";

/** Reasons `git push --porcelain` gives when the branch moved after we fetched it. */
const MOVED_REASONS = new Set(["fetch first", "non-fast-forward", "stale info"]);

/** Work on one clone runs one restore at a time: two would reset each other's work tree. */
const cloneLocks = new Map<string, Promise<unknown>>();

/** Where the working clone of a repository lives under `workDir`. */
export function cloneDirectory(workDir: string, url: string): string {
  return join(workDir, repositoryKey(normalizeRepositoryUrl(url)));
}

/**
 * Commits the content `path` had at `revision` onto the head of branch `ref`
 * and pushes it, in a working clone of its own under `workDir`. When the
 * branch moved before the push landed, the whole restore is redone on the new
 * head, up to `attempts` times.
 */
export async function restoreDirectory(request: RestoreRequest): Promise<RestoreResult> {
  const problem = requestProblem(request);
  if (problem !== undefined) throw stalled("InvalidRestore", problem);
  const clone = cloneDirectory(request.workDir, request.url);
  return serialize(clone, async () => {
    await openClone(clone);
    return restoreInClone(new RestoreRun(request, clone));
  });
}

/** What one restore needs at hand in every step. */
class RestoreRun {
  readonly remoteUrl: string;
  readonly branch: string;
  /** The repository as configured, credentials masked: the form messages use. */
  readonly shownUrl: string;
  readonly pushArgs: readonly string[];

  constructor(
    readonly request: RestoreRequest,
    readonly clone: string,
  ) {
    this.remoteUrl = normalizeRepositoryUrl(request.url);
    this.branch = request.ref.replace(/^refs\/heads\//, "");
    this.shownUrl = redactSecrets(request.url);
    // Only a path (not a URL) is taken as the user's own checkout, whose work tree may follow the push.
    const localPath = this.remoteUrl.startsWith("file://") && !/^file:\/\//i.test(request.url.trim());
    this.pushArgs = localPath ? [UPDATE_INSTEAD] : [];
  }

  git(args: readonly string[], env?: Readonly<Record<string, string>>): Promise<string> {
    return runGit(["--literal-pathspecs", ...args], { cwd: this.clone, env });
  }

  exec(args: readonly string[], network = false): Promise<GitOutput> {
    return execGit(["--literal-pathspecs", ...args], { cwd: this.clone, timeoutMs: network ? NETWORK_TIMEOUT_MS : undefined });
  }
}

async function restoreInClone(run: RestoreRun): Promise<RestoreResult> {
  const { request } = run;
  const limit = Math.max(1, Math.floor(request.attempts ?? DEFAULT_PUSH_ATTEMPTS));
  for (let attempt = 1; ; attempt++) {
    const parent = await fetchBranch(run);
    await fetchRevision(run);
    await run.git(["checkout", "--quiet", "--force", "--detach", parent]);
    await run.git(["clean", "-ffdxq"]);
    await stageRestoredPath(run);
    if (!(await hasStagedChanges(run))) {
      const what = request.path === "." ? "the repository" : request.path;
      throw new NothingToCommitError(`${what} already has the content of ${shortRevision(request.revision)} on ${run.branch}`);
    }
    const commit = await commitStaged(run, request.signing);
    const refspec = `HEAD:refs/heads/${run.branch}`;
    const push = await run.exec(["push", "--porcelain", "--no-progress", ...run.pushArgs, "--", run.remoteUrl, refspec], true);
    if (push.code === 0) return { commit, parent, attempts: attempt, changedFiles: await changedFiles(run, parent, commit) };
    const rejection = readRejection(push, run.branch);
    if (!rejection.moved) throw new PushRejectedError(rejectionMessage(run, rejection));
    if (attempt >= limit) {
      throw new PushRejectedError(
        `push to ${run.shownUrl} rejected ${attempt} times because ${run.branch} kept moving (${rejection.reason}); retry later`,
        "transient",
      );
    }
  }
}

/** Fetches the branch and returns its head. */
async function fetchBranch(run: RestoreRun): Promise<string> {
  const tracking = `refs/ferry/branches/${run.branch}`;
  const args = ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--", run.remoteUrl, `+refs/heads/${run.branch}:${tracking}`];
  const output = await run.exec(args, true);
  if (output.code !== 0) {
    if (/couldn't find remote ref/i.test(output.stderr)) throw stalled("RefNotFound", `branch "${run.branch}" not found in ${run.shownUrl}`);
    throw gitFailure(args, output);
  }
  return (await run.git(["rev-parse", "--verify", `${tracking}^{commit}`])).trim();
}

/** Makes sure the revision's commit is in the clone, fetching it by id when it is not reachable from the branch. */
async function fetchRevision(run: RestoreRun): Promise<void> {
  const { revision } = run.request;
  const notFound = (): FerryError => stalled("RevisionNotFound", `revision ${shortRevision(revision)} is not in ${run.shownUrl}`);
  if (await isCommit(run, revision)) return;
  const args = ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--", run.remoteUrl, `+${revision}:refs/ferry/restore`];
  const output = await run.exec(args, true);
  if (output.code !== 0) {
    if (/not our ref|couldn't find remote ref|unadvertised object|no such remote ref/i.test(output.stderr)) throw notFound();
    throw gitFailure(args, output);
  }
  // The id may name a tree or a blob: only a commit can be restored.
  if (!(await isCommit(run, revision))) throw notFound();
}

async function isCommit(run: RestoreRun, revision: string): Promise<boolean> {
  return (await run.exec(["rev-parse", "--verify", "--quiet", `${revision}^{commit}`])).code === 0;
}

async function hasStagedChanges(run: RestoreRun): Promise<boolean> {
  const args = ["diff", "--cached", "--quiet", "HEAD", "--"];
  const output = await run.exec(args);
  if (output.code > 1) throw gitFailure(args, output);
  return output.code === 1;
}

/** Replaces `path` in the index and work tree with its content at the revision; absent there means removed. */
async function stageRestoredPath(run: RestoreRun): Promise<void> {
  const { path, revision } = run.request;
  await run.git(["rm", "-r", "-f", "--quiet", "--ignore-unmatch", "--", path]);
  const existed = (await run.git(["ls-tree", "--name-only", revision, "--", path])).trim() !== "";
  if (existed) await run.git(["checkout", "--quiet", revision, "--", path]);
}

async function commitStaged(run: RestoreRun, signing?: CommitSigningSettings): Promise<string> {
  const { name, email } = run.request.author;
  const committer = run.request.author.committer ?? { name, email };
  // The variables would win over -c user.name and user.email, so they are set to the identity given.
  const env = { ...signing?.env, GIT_AUTHOR_NAME: name, GIT_AUTHOR_EMAIL: email, GIT_COMMITTER_NAME: committer.name, GIT_COMMITTER_EMAIL: committer.email };
  const identity = ["-c", `user.name=${name}`, "-c", `user.email=${email}`, ...(signing ? signing.config : ["-c", "commit.gpgsign=false"])];
  // --no-verify: the user's pre-commit and commit-msg hooks are for their own checkouts, not this clone.
  await run.git([...identity, "commit", "--quiet", "--no-verify", ...(signing ? ["-S"] : []), "--cleanup=verbatim", "-m", run.request.message], env);
  return (await run.git(["rev-parse", "--verify", "HEAD"])).trim();
}

async function changedFiles(run: RestoreRun, parent: string, commit: string): Promise<readonly string[]> {
  const output = await run.git(["diff", "--name-only", "--no-renames", "-z", parent, commit, "--"]);
  return output.split("\0").filter((name) => name !== "");
}

/** Why a push failed, as `git push --porcelain` and the remote told it. */
interface Rejection {
  readonly reason: string;
  /** The branch moved after it was fetched: redoing the restore on the new head may succeed. */
  readonly moved: boolean;
  readonly stderr: string;
}

function readRejection(output: GitOutput, branch: string): Rejection {
  const line = output.stdout.split("\n").find((l) => l.includes(`:refs/heads/${branch}\t`));
  const reason = /\((.*)\)\s*$/.exec(line ?? "")?.[1] ?? "";
  // The remote's check of the old head: the branch moved between the ref advertisement and the update.
  const lockRace = /cannot lock ref '[^']*': is at [0-9a-f]+ but expected/.test(output.stderr);
  return { reason, moved: MOVED_REASONS.has(reason) || lockRace, stderr: output.stderr };
}

function rejectionMessage(run: RestoreRun, rejection: Rejection): string {
  const prefix = `push to ${run.shownUrl} rejected`;
  if (/working directory has (un)?staged changes/i.test(rejection.reason)) {
    return `${prefix}: the repository's working tree has uncommitted changes; commit or stash them there and retry`;
  }
  if (rejection.reason === "branch is currently checked out") {
    const advice = "give the repository as a local path so its work tree follows the push, or push to a bare repository";
    return `${prefix}: ${run.branch} is checked out there; ${advice}`;
  }
  const remote = rejection.stderr
    .split("\n")
    .map((l) => l.replace(/^remote:/, "").trim())
    .filter((l) => l !== "" && !l.startsWith("hint:") && !/^error: failed to push some refs/.test(l));
  const detail = [rejection.reason, ...remote.slice(-3)].filter((s) => s !== "").join("; ");
  return `${prefix}: ${redactSecrets(detail || "no error output")}`;
}

function requestProblem(request: RestoreRequest): string | undefined {
  const branch = request.ref.replace(/^refs\/heads\//, "");
  const repository = repositoryProblem(request.url);
  if (repository !== undefined) return repository;
  const ref = refProblem(branch);
  if (ref !== undefined) return ref;
  if (branch.startsWith("refs/")) return `ref ${JSON.stringify(request.ref)} is not a branch; only branches can be committed to`;
  if (!/^([0-9a-f]{40}|[0-9a-f]{64})$/.test(request.revision)) return `revision ${JSON.stringify(request.revision)} is not a full commit id`;
  const { path } = request;
  if (path === "" || path.startsWith("/") || path.split("/").some((part) => part === ".." || part === "" || (part === "." && path !== "."))) {
    return `path ${JSON.stringify(path)} must be a normalized directory inside the repository, like "apps/web" or "."`;
  }
  if (request.message.trim() === "") return "commit message is empty";
  return undefined;
}

/** Creates the working clone when absent: an empty repository in a temporary sibling, renamed into place. */
async function openClone(directory: string): Promise<void> {
  if (await isDirectory(directory)) return;
  await mkdir(dirname(directory), { recursive: true });
  const temporary = `${directory}.tmp-${randomBytes(4).toString("hex")}`;
  try {
    await runGit(["init", "--quiet", temporary]);
    await rename(temporary, directory);
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    // Another process created it first: theirs is as good as ours.
    if (!(await isDirectory(directory))) throw error;
  }
}

async function serialize<T>(key: string, work: () => Promise<T>): Promise<T> {
  const previous = cloneLocks.get(key) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(work);
  const settled = run.catch(() => undefined);
  cloneLocks.set(key, settled);
  try {
    return await run;
  } finally {
    if (cloneLocks.get(key) === settled) cloneLocks.delete(key);
  }
}

/** Changes to files of a branch, made by a function in a working clone, committed and pushed. */
export interface EditRequest {
  readonly url: string;
  /** The branch the edits start from. */
  readonly ref: string;
  readonly message: string;
  readonly author: CommitIdentity;
  readonly workDir: string;
  /**
   * Edits the checked-out tree at `dir` (the branch head) and returns the
   * paths it changed, relative to `dir`. Called again on a new head when the
   * branch moved before the push landed.
   */
  readonly edit: (dir: string) => Promise<readonly string[]>;
  /** Push to this new branch (for a pull request) instead of `ref`; it is replaced when it exists. */
  readonly pushBranch?: string;
  /** `-c` settings that make `git commit -S` sign (gpg.format, user.signingkey, ...), and its environment. */
  readonly signing?: CommitSigningSettings;
  readonly attempts?: number;
}

/**
 * Commits what `edit` changes on the head of a branch and pushes it (to the
 * branch, or to a new branch for a pull request), in the working clone of the
 * repository under `workDir`. When the branch moved before the push landed,
 * the edit is redone on the new head, up to `attempts` times. Throws
 * NothingToCommitError when the edit changed nothing.
 */
export async function commitEdits(request: EditRequest): Promise<RestoreResult> {
  const problem = repositoryProblem(request.url) ?? refProblem(request.ref.replace(/^refs\/heads\//, "")) ?? (request.pushBranch !== undefined ? refProblem(request.pushBranch) : undefined);
  if (problem !== undefined) throw stalled("InvalidEdit", problem);
  const clone = cloneDirectory(request.workDir, request.url);
  const restore: RestoreRequest = { url: request.url, ref: request.ref, path: ".", revision: "0".repeat(40), message: request.message, author: request.author, workDir: request.workDir };
  return serialize(clone, async () => {
    await openClone(clone);
    const run = new RestoreRun(restore, clone);
    const limit = Math.max(1, Math.floor(request.attempts ?? DEFAULT_PUSH_ATTEMPTS));
    for (let attempt = 1; ; attempt++) {
      const parent = await fetchBranch(run);
      await run.git(["checkout", "--quiet", "--force", "--detach", parent]);
      await run.git(["clean", "-ffdxq"]);
      const edited = await request.edit(clone);
      if (edited.length > 0) await run.git(["add", "--", ...edited]);
      if (!(await hasStagedChanges(run))) throw new NothingToCommitError(`the files already hold these values on ${run.branch}`);
      const commit = await commitStaged(run, request.signing);
      const target = request.pushBranch ?? run.branch;
      const refspec = `${request.pushBranch !== undefined ? "+" : ""}HEAD:refs/heads/${target}`;
      const pushArgs = request.pushBranch !== undefined ? [] : run.pushArgs;
      const push = await run.exec(["push", "--porcelain", "--no-progress", ...pushArgs, "--", run.remoteUrl, refspec], true);
      if (push.code === 0) return { commit, parent, attempts: attempt, changedFiles: await changedFiles(run, parent, commit) };
      const rejection = readRejection(push, target);
      if (!rejection.moved) throw new PushRejectedError(rejectionMessage(run, rejection));
      if (attempt >= limit) {
        throw new PushRejectedError(`push to ${run.shownUrl} rejected ${attempt} times because ${target} kept moving (${rejection.reason}); retry later`, "transient");
      }
    }
  });
}
