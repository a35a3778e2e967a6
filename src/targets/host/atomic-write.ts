import { randomBytes } from "node:crypto";
import { mkdir, open, rename, rm } from "node:fs/promises";
import path from "node:path";

/**
 * Directories whose entries changed (a rename into place) and still need an
 * fsync to make that durable: many writes into one directory during an apply
 * cost one directory fsync, at `flush`. Each write stays atomic; only the
 * moment its rename reaches the disk moves to the flush. A batch not flushed
 * by its owner flushes itself shortly after its first write.
 */
export class DirectorySync {
  readonly #dirs = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #flushes = 0;

  add(dir: string): void {
    this.#dirs.add(dir);
    this.#timer ??= setTimeout(() => void this.flush(), 1000);
    this.#timer.unref();
  }

  /** Fsyncs every directory written into since the last flush, each once. */
  async flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const dirs = [...this.#dirs];
    this.#dirs.clear();
    for (const dir of dirs) await syncDirectory(dir);
    this.#flushes += dirs.length;
  }

  /** Directory fsyncs done so far. */
  get directorySyncs(): number {
    return this.#flushes;
  }
}

/**
 * Writes a file so readers see either the old content or the new, never a
 * half-written one: a temporary file in the same directory, fsync, chmod, then
 * rename over the target. Parent directories are created. The directory is
 * fsynced at once, or with `batch` at its flush.
 */
export async function writeFileAtomic(target: string, content: string | Uint8Array, mode: number, batch?: DirectorySync): Promise<void> {
  const dir = path.dirname(target);
  await mkdir(dir, { recursive: true });
  const temp = path.join(dir, `.${path.basename(target)}.${randomBytes(6).toString("hex")}.tmp`);
  // A kill before the rename leaves the temporary file: isTemporaryOf tells it, and its owner removes it at start.
  try {
    const handle = await open(temp, "wx", mode);
    try {
      await handle.writeFile(content);
      await handle.sync();
      // The umask trims the mode given to open(); chmod sets exactly what was asked.
      await handle.chmod(mode);
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  if (batch) batch.add(dir);
  else await syncDirectory(dir);
}

async function syncDirectory(dir: string): Promise<void> {
  // Makes the rename itself durable; some file systems refuse fsync on a directory, which is fine.
  try {
    const handle = await open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    return;
  }
}

/**
 * Whether a directory entry is a temporary file writeFileAtomic made (for
 * `basename` when given): `.<name>.<12 hex>.tmp`.
 */
export function isTemporaryOf(entry: string, basename?: string): boolean {
  const match = /^\.(.+)\.[0-9a-f]{12}\.tmp$/.exec(entry);
  return match !== null && (basename === undefined || match[1] === basename);
}
