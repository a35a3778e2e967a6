import { link, lstat, mkdir, open, readlink, rm, symlink } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import path from "node:path";

/*
 * A tar archive (ustar, with pax and GNU long-name headers) unpacked into an
 * empty directory, refusing anything that could reach outside it: absolute
 * names, `..`, entries written through a symlink, symlinks or hard links
 * that point out, and device files and FIFOs. Modes keep only the rwx bits;
 * owners are not restored.
 *
 * Written on Node's built-ins (zlib for gzip is the caller's) rather than the
 * `tar` package because every refusal must be an error that names the entry:
 * `tar` strips and skips unsafe entries with a warning, which would unpack a
 * hostile archive partially and run it.
 */

/** An archive refused: the message names the entry and what is wrong with it. */
export class UnsafeArchiveError extends Error {
  override readonly name = "UnsafeArchiveError";
}

const BLOCK = 512;

interface Header {
  readonly name: string;
  readonly mode: number;
  readonly size: number;
  readonly type: string;
  readonly linkName: string;
}

interface Pending {
  path?: string;
  linkPath?: string;
  size?: number;
}

/** Unpacks a tar stream into `dest` (an existing, empty directory). Throws UnsafeArchiveError naming the entry for anything refused. */
export async function extractTar(source: AsyncIterable<Buffer>, dest: string): Promise<void> {
  const reader = new BlockReader(source);
  const symlinks = new Set<string>();
  let pending: Pending = {};
  let zeroBlocks = 0;
  for (;;) {
    const block = await reader.read(BLOCK);
    if (block === undefined) {
      if (zeroBlocks > 0) break;
      throw new UnsafeArchiveError("the archive ends in the middle (no end-of-archive blocks)");
    }
    if (block.every((b) => b === 0)) {
      zeroBlocks += 1;
      if (zeroBlocks === 2) break;
      continue;
    }
    zeroBlocks = 0;
    const header = parseHeader(block);
    if (header.type === "x" || header.type === "g" || header.type === "L" || header.type === "K") {
      const body = await reader.read(Math.ceil(header.size / BLOCK) * BLOCK);
      if (body === undefined) throw new UnsafeArchiveError("the archive ends in the middle of an extended header");
      const text = body.subarray(0, header.size).toString("utf8");
      if (header.type === "x") pending = { ...pending, ...parsePax(text) };
      else if (header.type === "L") pending.path = text.replace(/\0+$/, "");
      else if (header.type === "K") pending.linkPath = text.replace(/\0+$/, "");
      // Global pax headers ('g') carry defaults such as comments; none of them changes where or what is written.
      continue;
    }
    const name = pending.path ?? header.name;
    const linkName = pending.linkPath ?? header.linkName;
    const size = pending.size ?? header.size;
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    pending = {};
    const relative = safeRelative(name);
    if (relative === "") {
      if (header.type === "5") continue; // "./" itself
      throw new UnsafeArchiveError(`entry ${JSON.stringify(name)} has no name`);
    }
    for (const ancestor of ancestors(relative)) {
      if (symlinks.has(ancestor)) throw new UnsafeArchiveError(`entry ${JSON.stringify(name)} would be written through the symlink ${JSON.stringify(ancestor)}`);
    }
    const target = path.join(dest, relative);
    await mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
    switch (header.type) {
      case "0":
      case "\0":
      case "7": {
        await removeExisting(target, name);
        const handle = await open(target, "wx", (header.mode & 0o777) | 0o200);
        try {
          await copyBody(reader, handle, size, name);
          await handle.chmod(header.mode & 0o777);
        } finally {
          await handle.close();
        }
        await skip(reader, padded - size, name);
        symlinks.delete(relative);
        break;
      }
      case "5":
        await skip(reader, padded, name);
        if (symlinks.has(relative)) throw new UnsafeArchiveError(`directory entry ${JSON.stringify(name)} replaces a symlink`);
        await mkdir(target, { recursive: true, mode: 0o755 });
        break;
      case "2": {
        await skip(reader, padded, name);
        if (path.posix.isAbsolute(linkName) || lexicallyEscapes(path.posix.dirname(relative), linkName)) {
          throw new UnsafeArchiveError(`symlink ${JSON.stringify(name)} points outside the archive (${JSON.stringify(linkName)})`);
        }
        await removeExisting(target, name);
        await symlink(linkName, target);
        symlinks.add(relative);
        break;
      }
      case "1": {
        await skip(reader, padded, name);
        let linked = "";
        try {
          linked = safeRelative(linkName);
        } catch {
          // An absolute or climbing target is refused below, under the link's own name.
        }
        const existing = linked === "" ? undefined : await lstat(path.join(dest, linked)).catch(() => undefined);
        if (!existing?.isFile() || ancestors(linked).some((a) => symlinks.has(a))) {
          throw new UnsafeArchiveError(`hard link ${JSON.stringify(name)} must point to a regular file earlier in the archive (${JSON.stringify(linkName)})`);
        }
        await removeExisting(target, name);
        await link(path.join(dest, linked), target);
        break;
      }
      case "3":
      case "4":
      case "6":
        throw new UnsafeArchiveError(`entry ${JSON.stringify(name)} is a ${header.type === "6" ? "FIFO" : "device file"}; artifacts may hold only files, directories and links inside them`);
      default:
        throw new UnsafeArchiveError(`entry ${JSON.stringify(name)} has the unsupported tar type ${JSON.stringify(header.type)}`);
    }
  }
  for (const relative of symlinks) await assertLinkStaysInside(dest, relative);
}

/** The entry name as a relative path without `.` parts; throws for absolute names, `..` parts and NUL. */
function safeRelative(name: string): string {
  if (name.includes("\0")) throw new UnsafeArchiveError(`entry ${JSON.stringify(name)} contains a NUL byte`);
  if (name.startsWith("/") || /^[A-Za-z]:/.test(name)) throw new UnsafeArchiveError(`entry ${JSON.stringify(name)} has an absolute path`);
  const parts = name.split(/[/\\]+/).filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw new UnsafeArchiveError(`entry ${JSON.stringify(name)} climbs out of the archive with ".."`);
  return parts.join("/");
}

function ancestors(relative: string): string[] {
  const parts = relative.split("/");
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join("/"));
}

function lexicallyEscapes(fromDir: string, target: string): boolean {
  const joined = path.posix.normalize(path.posix.join(fromDir, target));
  return joined === ".." || joined.startsWith("../");
}

/**
 * Resolves a symlink inside `root` one component at a time, following
 * symlinks it meets, and throws if the walk ever climbs above `root`: a link
 * whose target looks harmless (`a/..`) can still escape when `a` is a link.
 * `relative` is the link's path below `root`, with `/` separators.
 */
export async function assertLinkStaysInside(root: string, relative: string): Promise<void> {
  const stack = relative.split("/").slice(0, -1);
  let queue = (await readlink(path.join(root, relative))).split("/");
  let hops = 0;
  while (queue.length > 0) {
    const part = queue.shift() ?? "";
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (stack.length === 0) throw new UnsafeArchiveError(`symlink ${JSON.stringify(relative)} resolves to a place outside the archive`);
      stack.pop();
      continue;
    }
    const candidate = path.join(root, ...stack, part);
    const info = await lstat(candidate).catch(() => undefined);
    if (info?.isSymbolicLink()) {
      hops += 1;
      if (hops > 40) throw new UnsafeArchiveError(`symlink ${JSON.stringify(relative)} is part of a loop`);
      const next = await readlink(candidate);
      if (next.startsWith("/")) throw new UnsafeArchiveError(`symlink ${JSON.stringify(relative)} resolves to a place outside the archive`);
      queue = [...next.split("/"), ...queue];
      continue;
    }
    stack.push(part);
  }
}

async function removeExisting(target: string, name: string): Promise<void> {
  const info = await lstat(target).catch(() => undefined);
  if (info === undefined) return;
  if (info.isDirectory()) throw new UnsafeArchiveError(`entry ${JSON.stringify(name)} would replace a directory`);
  await rm(target, { force: true });
}

function parseHeader(block: Buffer): Header {
  const stored = parseOctal(block.subarray(148, 156));
  let sum = 0;
  for (let i = 0; i < BLOCK; i += 1) sum += i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
  if (stored !== sum) throw new UnsafeArchiveError("not a tar archive (a header's checksum is wrong)");
  const name = cString(block.subarray(0, 100));
  const magic = block.subarray(257, 263).toString("latin1");
  const prefix = magic.startsWith("ustar") ? cString(block.subarray(345, 500)) : "";
  return {
    name: prefix === "" ? name : `${prefix}/${name}`,
    mode: parseOctal(block.subarray(100, 108)),
    size: parseSize(block.subarray(124, 136)),
    type: String.fromCharCode(block[156] ?? 0),
    linkName: cString(block.subarray(157, 257)),
  };
}

function cString(bytes: Buffer): string {
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end === -1 ? bytes.length : end).toString("utf8");
}

function parseOctal(bytes: Buffer): number {
  const text = bytes.toString("latin1").replace(/\0.*$/s, "").trim();
  return text === "" ? 0 : parseInt(text, 8);
}

/** Sizes above 8 GiB use base-256 (GNU): the high bit of the first byte is set. */
function parseSize(bytes: Buffer): number {
  if (((bytes[0] ?? 0) & 0x80) === 0) return parseOctal(bytes);
  let value = (bytes[0] ?? 0) & 0x7f;
  for (let i = 1; i < bytes.length; i += 1) value = value * 256 + (bytes[i] ?? 0);
  return value;
}

/** Pax records: `<length> <key>=<value>\n`. Only path, linkpath and size matter for unpacking. */
function parsePax(text: string): Pending {
  const result: Pending = {};
  let rest = Buffer.from(text, "utf8");
  while (rest.length > 0) {
    const space = rest.indexOf(0x20);
    const length = Number(rest.subarray(0, space).toString("latin1"));
    if (space <= 0 || !Number.isInteger(length) || length <= space) throw new UnsafeArchiveError("a pax extended header is malformed");
    const record = rest.subarray(space + 1, length - 1).toString("utf8");
    rest = rest.subarray(length);
    const eq = record.indexOf("=");
    const key = record.slice(0, eq);
    const value = record.slice(eq + 1);
    if (key === "path") result.path = value;
    else if (key === "linkpath") result.linkPath = value;
    else if (key === "size") result.size = Number(value);
  }
  return result;
}

async function copyBody(reader: BlockReader, handle: FileHandle, size: number, name: string): Promise<void> {
  let left = size;
  while (left > 0) {
    const chunk = await reader.readSome(left);
    if (chunk === undefined) throw new UnsafeArchiveError(`the archive ends in the middle of ${JSON.stringify(name)}`);
    await handle.write(chunk);
    left -= chunk.length;
  }
}

async function skip(reader: BlockReader, bytes: number, name: string): Promise<void> {
  let left = bytes;
  while (left > 0) {
    const chunk = await reader.readSome(left);
    if (chunk === undefined) throw new UnsafeArchiveError(`the archive ends in the middle of ${JSON.stringify(name)}`);
    left -= chunk.length;
  }
}

/** Reads exact byte counts from a stream of chunks. */
class BlockReader {
  private readonly iterator: AsyncIterator<Buffer>;
  private buffered: Buffer = Buffer.alloc(0);
  private done = false;

  constructor(source: AsyncIterable<Buffer>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  /** Exactly `n` bytes, or undefined at the end of the stream (a short tail is an error). */
  async read(n: number): Promise<Buffer | undefined> {
    while (this.buffered.length < n && !this.done) await this.fill();
    if (this.buffered.length === 0 && this.done) return undefined;
    if (this.buffered.length < n) throw new UnsafeArchiveError("the archive ends in the middle of a block");
    const out = this.buffered.subarray(0, n);
    this.buffered = this.buffered.subarray(n);
    return out;
  }

  /** Between 1 and `max` bytes, or undefined at the end of the stream. */
  async readSome(max: number): Promise<Buffer | undefined> {
    if (this.buffered.length === 0 && !this.done) await this.fill();
    if (this.buffered.length === 0) return undefined;
    const out = this.buffered.subarray(0, Math.min(max, this.buffered.length));
    this.buffered = this.buffered.subarray(out.length);
    return out;
  }

  private async fill(): Promise<void> {
    const next = await this.iterator.next();
    if (next.done) {
      this.done = true;
      return;
    }
    this.buffered = this.buffered.length === 0 ? next.value : Buffer.concat([this.buffered, next.value]);
  }
}
