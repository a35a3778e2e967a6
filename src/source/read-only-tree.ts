import { chmod, lstat, readdir, rm } from "node:fs/promises";
import { join } from "node:path";

/** Mode of a read-only file: 0555 when any execute bit was set, else 0444. */
export function readOnlyMode(mode: number): number {
  return (mode & 0o111) !== 0 ? 0o555 : 0o444;
}

/**
 * Makes every file and directory under `root` (and `root` itself) read-only,
 * so nothing downstream of the source stage can change an artifact. Symbolic
 * links are left alone: their own mode means nothing on Linux.
 */
export async function makeTreeReadOnly(root: string): Promise<void> {
  for (const entry of await readdir(root, { withFileTypes: true })) {
    const path = join(root, entry.name);
    if (entry.isDirectory()) {
      await makeTreeReadOnly(path);
    } else if (entry.isFile()) {
      await chmod(path, readOnlyMode((await lstat(path)).mode));
    }
  }
  // Directories last: a read-only directory no longer lets us change what is in it.
  await chmod(root, 0o555);
}

/**
 * Removes a tree made read-only by `makeTreeReadOnly`. Directories are made
 * writable first, because unlinking needs write permission on the directory
 * (root ignores that, every other user does not). An absent tree is fine.
 */
export async function removeTree(root: string): Promise<void> {
  try {
    await makeDirectoriesWritable(root);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  await rm(root, { recursive: true, force: true });
}

async function makeDirectoriesWritable(directory: string): Promise<void> {
  const info = await lstat(directory);
  if (!info.isDirectory()) return;
  await chmod(directory, 0o755);
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    if (entry.isDirectory()) await makeDirectoriesWritable(join(directory, entry.name));
  }
}
