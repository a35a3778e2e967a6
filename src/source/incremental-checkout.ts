import { execFile } from "node:child_process";
import { chmod, lstat, readdir } from "node:fs/promises";
import { dirname, join, posix } from "node:path";
import { promisify } from "node:util";
import { readOnlyMode, removeTree } from "./read-only-tree.js";

const run = promisify(execFile);

/** A change of more paths than this is written as a whole checkout: linking saves little then. */
export const MAX_INCREMENTAL_PATHS = 1000;

/** What an incremental checkout needs of the repository. */
export interface IncrementalSource {
  /** Paths that differ between the commits, each with git's status letter (D: deleted); undefined when unknown. */
  changes(from: string, to: string): Promise<readonly { readonly status: string; readonly path: string }[] | undefined>;
  /** Writes these paths of the commit's tree under `target`, which holds the rest already. */
  checkoutPaths(commit: string, target: string, paths: readonly string[]): Promise<void>;
}

/**
 * Writes the tree of `commit` into `target` (an empty directory) from the
 * read-only artifact of an earlier commit: every file of that artifact is
 * hard-linked (one `cp -al`, no content copied or read), then only the paths
 * that differ are removed and written from git, and only those (and the
 * directories they are in) are made read-only. Unchanged files share their
 * inode with the earlier artifact, so a commit of one file costs one file.
 * Returns false, leaving `target` empty, when it cannot (no `cp -al` here, too
 * many changes, an unknown commit): the caller then writes a whole checkout.
 */
export async function checkoutIncrementally(source: IncrementalSource, from: { readonly revision: string; readonly directory: string }, commit: string, target: string): Promise<boolean> {
  const changes = await source.changes(from.revision, commit).catch(() => undefined);
  if (changes === undefined || changes.length > MAX_INCREMENTAL_PATHS) return false;
  try {
    await run("cp", ["-al", "--", `${from.directory}/.`, target]);
    const opened = new Set<string>();
    const open = async (relative: string): Promise<void> => {
      // Every directory down to the path must be writable to change what is in it.
      const parts = posix.dirname(relative) === "." ? [] : posix.dirname(relative).split("/");
      for (let i = 0; i <= parts.length; i++) {
        const dir = join(target, ...parts.slice(0, i));
        if (opened.has(dir)) continue;
        const info = await lstat(dir).catch(() => undefined);
        if (!info?.isDirectory()) break;
        await chmod(dir, 0o755);
        opened.add(dir);
      }
    };
    for (const { path } of changes) {
      await open(path);
      await removeTree(join(target, path));
    }
    const written = changes.filter((c) => c.status !== "D").map((c) => c.path);
    if (written.length > 0) await source.checkoutPaths(commit, target, written);
    for (const path of written) {
      const full = join(target, path);
      const info = await lstat(full).catch(() => undefined);
      if (info?.isFile()) await chmod(full, readOnlyMode(info.mode));
      // Directories git created for a new path are read-only too.
      for (let dir = dirname(full); dir.length > target.length && !opened.has(dir); dir = dirname(dir)) opened.add(dir);
    }
    // Deepest first: a read-only directory no longer lets us change what is in it.
    for (const dir of [...opened].sort((a, b) => b.length - a.length)) await chmod(dir, 0o555);
    return true;
  } catch {
    await emptyDirectory(target);
    return false;
  }
}

async function emptyDirectory(directory: string): Promise<void> {
  await chmod(directory, 0o755).catch(() => undefined);
  for (const entry of await readdir(directory).catch(() => [] as string[])) await removeTree(join(directory, entry));
}
