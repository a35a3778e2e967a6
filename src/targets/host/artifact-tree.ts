import { createHash } from "node:crypto";
import type { Stats } from "node:fs";
import { createReadStream } from "node:fs";
import { copyFile, lstat, mkdir, readdir, readlink, symlink } from "node:fs/promises";
import path from "node:path";
import { assertLinkStaysInside, UnsafeArchiveError } from "./tar-extract.js";

/** sha256 (hex) of a stream's bytes; each chunk is also handed to `each` (awaited) on its way. */
export async function sha256Stream(source: AsyncIterable<Buffer | Uint8Array>, each?: (chunk: Uint8Array) => Promise<void>): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of source) {
    hash.update(chunk);
    if (each) await each(chunk);
  }
  return hash.digest("hex");
}

/**
 * The digest of a directory artifact: sha256 of one line per entry, sorted by
 * path (`/`-separated, relative), `dir <path>`, `file <x|-> <sha256 hex> <path>`
 * (x when the owner may execute it) or `symlink <target> <path>`, each ending
 * in a newline. Owners, times and other mode bits do not count.
 */
export async function directoryDigest(dir: string): Promise<string> {
  const lines: { path: string; line: string }[] = [];
  await walk(dir, "", async (relative, info, full) => {
    let line: string;
    if (info.isDirectory()) line = `dir ${relative}`;
    else if (info.isSymbolicLink()) line = `symlink ${await readlink(full)} ${relative}`;
    else line = `file ${info.mode & 0o100 ? "x" : "-"} ${await sha256Stream(createReadStream(full))} ${relative}`;
    lines.push({ path: relative, line });
  });
  lines.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return `sha256:${createHash("sha256").update(lines.map((l) => `${l.line}\n`).join("")).digest("hex")}`;
}

/**
 * Copies a directory artifact to `dest` (which must not exist) and returns the
 * digest of the copy, so what is checked is what runs. Symlinks that lead
 * out of the directory, device files, FIFOs and sockets are refused.
 */
export async function copyTreeWithDigest(source: string, dest: string): Promise<string> {
  await mkdir(dest, { mode: 0o755 });
  const links: string[] = [];
  await walk(source, "", async (relative, info, full) => {
    const target = path.join(dest, relative);
    if (info.isDirectory()) await mkdir(target, { mode: 0o755 });
    else if (info.isSymbolicLink()) {
      const to = await readlink(full);
      if (path.isAbsolute(to)) throw new UnsafeArchiveError(`symlink ${JSON.stringify(relative)} points outside the artifact (${JSON.stringify(to)})`);
      await symlink(to, target);
      links.push(relative);
    } else await copyFile(full, target);
  });
  for (const relative of links) await assertLinkStaysInside(dest, relative);
  return directoryDigest(dest);
}

type Visit = (relative: string, info: Stats, full: string) => Promise<void>;

async function walk(root: string, relative: string, visit: Visit): Promise<void> {
  const entries = (await readdir(path.join(root, relative))).sort();
  for (const name of entries) {
    const child = relative === "" ? name : `${relative}/${name}`;
    const full = path.join(root, child);
    const info = await lstat(full);
    if (!info.isDirectory() && !info.isFile() && !info.isSymbolicLink()) {
      throw new UnsafeArchiveError(`entry ${JSON.stringify(child)} is a device file, FIFO or socket; artifacts may hold only files, directories and links inside them`);
    }
    await visit(child, info, full);
    if (info.isDirectory()) await walk(root, child, visit);
  }
}
