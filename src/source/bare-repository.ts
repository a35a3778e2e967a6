import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { CommitInfo } from "./artifact.js";
import { execGit, runGit } from "./git.js";

/** Commands that write to one repository directory run one at a time (git's own locks would fail the second). */
const writeLocks = new Map<string, Promise<unknown>>();

/**
 * The local cache of one remote: a bare, shallow repository that holds every
 * commit fetched so far. Each fetched commit keeps a ref under
 * `refs/ferry/commits/`, so git never drops it and an earlier commit (a revert,
 * a rollback) is found again without the network.
 */
export class BareRepository {
  readonly directory: string;
  readonly #networkTimeoutMs: number;

  private constructor(directory: string, networkTimeoutMs: number) {
    this.directory = directory;
    this.#networkTimeoutMs = networkTimeoutMs;
  }

  /** Opens the repository at `directory`, creating it (in a temporary sibling, then renamed) when absent. */
  static async open(directory: string, networkTimeoutMs: number): Promise<BareRepository> {
    if (!(await isDirectory(directory))) {
      await mkdir(dirname(directory), { recursive: true });
      const temporary = `${directory}.tmp-${randomBytes(4).toString("hex")}`;
      try {
        await runGit(["init", "--bare", "--quiet", temporary]);
        await rename(temporary, directory);
      } catch (error) {
        await rm(temporary, { recursive: true, force: true });
        // Another caller created it first: theirs is as good as ours.
        if (!(await isDirectory(directory))) throw error;
      }
    }
    return new BareRepository(directory, networkTimeoutMs);
  }

  /** True when the commit (and so its tree) is already here. */
  async hasCommit(commit: string): Promise<boolean> {
    const output = await execGit(this.#args("rev-parse", "--verify", "--quiet", `${commit}^{commit}`), { cwd: this.directory });
    return output.code === 0;
  }

  /** True when the object (a tag object, say) is already here. */
  async hasObject(id: string): Promise<boolean> {
    const output = await execGit(this.#args("cat-file", "-e", "--end-of-options", id), { cwd: this.directory });
    return output.code === 0;
  }

  /** The full id of the commit a name or unambiguous id prefix names here, or undefined. */
  async resolveCommit(name: string): Promise<string | undefined> {
    const output = await execGit(this.#args("rev-parse", "--verify", "--quiet", "--end-of-options", `${name}^{commit}`), { cwd: this.directory });
    return output.code === 0 ? output.stdout.trim() : undefined;
  }

  /**
   * Fetches one ref or commit id of `url` with depth 1 and returns the commit
   * it resolved to (annotated tags peeled). The result may be newer than what
   * ls-remote saw when the remote moved in between.
   */
  async fetch(url: string, source: string): Promise<string> {
    return this.#exclusive(async () => {
      const landing = /^[0-9a-f]{40,64}$/.test(source) ? `refs/ferry/commits/${source}` : `refs/ferry/fetch/${source}`;
      await runGit(this.#args("fetch", "--depth=1", "--no-tags", "--no-write-fetch-head", "--quiet", "--", url, `+${source}:${landing}`), {
        cwd: this.directory,
        timeoutMs: this.#networkTimeoutMs,
      });
      const commit = (await runGit(this.#args("rev-parse", "--verify", `${landing}^{commit}`), { cwd: this.directory })).trim();
      await runGit(this.#args("update-ref", `refs/ferry/commits/${commit}`, commit), { cwd: this.directory });
      return commit;
    });
  }

  /** The tree id of a commit. */
  async treeOf(commit: string): Promise<string> {
    return (await runGit(this.#args("rev-parse", "--verify", `${commit}^{tree}`), { cwd: this.directory })).trim();
  }

  /**
   * The paths that differ between two commits' trees (added, changed, removed;
   * a rename counts as both its paths), or undefined when either commit is not here.
   */
  async changedPaths(from: string, to: string): Promise<string[] | undefined> {
    const output = await execGit(this.#args("diff-tree", "-r", "-z", "--no-renames", "--name-only", "--no-commit-id", "--end-of-options", from, to), { cwd: this.directory });
    if (output.code !== 0) return undefined;
    return output.stdout.split("\0").filter((p) => p !== "");
  }

  /** The paths that differ between two commits with git's status letter (A, M, D, T), or undefined when either is not here. */
  async changes(from: string, to: string): Promise<{ status: string; path: string }[] | undefined> {
    const output = await execGit(this.#args("diff-tree", "-r", "-z", "--no-renames", "--name-status", "--no-commit-id", "--end-of-options", from, to), { cwd: this.directory });
    if (output.code !== 0) return undefined;
    const fields = output.stdout.split("\0");
    const out: { status: string; path: string }[] = [];
    for (let i = 0; i + 1 < fields.length; i += 2) out.push({ status: fields[i] ?? "", path: fields[i + 1] ?? "" });
    return out.filter((c) => c.path !== "");
  }

  /** Writes some paths of a commit's tree into `target` (which holds the rest), through a temporary index. */
  async checkoutPaths(commit: string, target: string, paths: readonly string[]): Promise<void> {
    const index = join(this.directory, `ferry-index-${randomBytes(6).toString("hex")}`);
    const env = { GIT_INDEX_FILE: index };
    try {
      await runGit(this.#args("read-tree", commit), { cwd: this.directory, env });
      await runGit([`--git-dir=${this.directory}`, `--work-tree=${target}`, "checkout-index", "--force", "--", ...paths], { cwd: target, env });
    } finally {
      await rm(index, { force: true });
    }
  }

  /** Author, email, subject and commit time of a commit. */
  async commitInfo(commit: string): Promise<CommitInfo> {
    const format = "--format=%an%x00%ae%x00%cI%x00%s";
    const output = await runGit(this.#args("log", "-1", "--no-show-signature", format, commit, "--"), { cwd: this.directory });
    const [author = "", email = "", time = "", subject = ""] = output.replace(/\n$/, "").split("\0");
    return { author, email, subject, time: new Date(time).toISOString() };
  }

  /**
   * Writes the whole tree of a commit into `target` (an existing empty
   * directory) through a temporary index, so the repository needs no work tree.
   */
  async checkout(commit: string, target: string): Promise<void> {
    const index = join(this.directory, `ferry-index-${randomBytes(6).toString("hex")}`);
    const env = { GIT_INDEX_FILE: index };
    try {
      await runGit(this.#args("read-tree", commit), { cwd: this.directory, env });
      await runGit([`--git-dir=${this.directory}`, `--work-tree=${target}`, "checkout-index", "--all", "--force"], { cwd: target, env });
    } finally {
      await rm(index, { force: true });
    }
  }

  #args(...args: string[]): string[] {
    return [`--git-dir=${this.directory}`, ...args];
  }

  async #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const previous = writeLocks.get(this.directory) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(work);
    const settled = run.catch(() => undefined);
    writeLocks.set(this.directory, settled);
    try {
      return await run;
    } finally {
      if (writeLocks.get(this.directory) === settled) writeLocks.delete(this.directory);
    }
  }
}

/** True when `path` is a directory; false when nothing is there. */
export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}
