import { lstat, readFile } from "node:fs/promises";
import type { Health } from "../../core/health.js";
import type { Comparable } from "../target.js";
import { sha256Hex } from "./digest.js";
import type { RecordSealer } from "./record-seal.js";
import { isNotFound } from "./state-store.js";

/**
 * What the state directory holds for one File. Not its content, nor a plain
 * hash of it (a hash of a short secret is enough to guess it): the sealed
 * digest of its sha256 (see record-seal.ts), which only this state
 * directory's key can check a file against.
 */
export interface FileRecord {
  readonly name: string;
  readonly owner: string;
  /** Absolute, inside the root. */
  readonly path: string;
  /** `seal(sha256 hex of the content)`. */
  readonly contentDigest: string;
  /** Four octal digits, `0644`. */
  readonly mode: string;
}

/** A file as found on disk. */
export interface FileSnapshot {
  /** False for a directory, a symlink or a device in the file's place. */
  readonly regular: boolean;
  /** Empty when not regular. */
  readonly sha256: string;
  readonly mode: string;
  /** Cheap fingerprint from lstat: when it is unchanged the content need not be hashed again. */
  readonly signature: string;
}

/** `644` or `0644` -> `0644`. */
export function normalizeMode(mode: string): string {
  return (parseInt(mode, 8) & 0o7777).toString(8).padStart(4, "0");
}

/** The comparable form of a present file, the same from describe and read. */
export function fileComparable(path: string, sha256: string, mode: string): Comparable {
  return { exists: true, mode, path, sha256 };
}

/**
 * Reads a file's content digest and mode; undefined when it does not exist.
 * `previous` lets an unchanged file (same size, times, inode and mode) skip hashing.
 */
export async function inspectFile(path: string, previous?: FileSnapshot): Promise<FileSnapshot | undefined> {
  let info;
  try {
    info = await lstat(path);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  const mode = normalizeMode((info.mode & 0o7777).toString(8));
  if (!info.isFile()) return { regular: false, sha256: "", mode, signature: "" };
  const signature = `${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}:${mode}`;
  if (previous && previous.signature === signature) return previous;
  try {
    return { regular: true, sha256: sha256Hex(await readFile(path)), mode, signature };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** How a live file compares with what Ferry wrote. */
export type FileCondition = "applied" | "modified" | "deleted";

/** Whether a file with this sha256 has the content the record was written with. */
export function sameContent(record: FileRecord, sha256: string, sealer: RecordSealer): boolean {
  return sealer.seal(sha256) === record.contentDigest;
}

/** Compares a snapshot with the record. */
export function fileCondition(record: FileRecord, snapshot: FileSnapshot | undefined, sealer: RecordSealer): FileCondition {
  if (!snapshot) return "deleted";
  return snapshot.regular && sameContent(record, snapshot.sha256, sealer) && snapshot.mode === record.mode ? "applied" : "modified";
}

/** Health of a managed file: Healthy as written, Missing when gone, Degraded when it differs. */
export function fileHealth(record: FileRecord, snapshot: FileSnapshot | undefined, sealer: RecordSealer): Health {
  if (!snapshot) return { status: "Missing", message: `file ${record.path} is missing` };
  if (!snapshot.regular) return { status: "Degraded", message: `${record.path} is no longer a regular file` };
  if (!sameContent(record, snapshot.sha256, sealer)) return { status: "Degraded", message: `file ${record.path} was changed outside ferry` };
  if (snapshot.mode !== record.mode) {
    return { status: "Degraded", message: `file ${record.path} has mode ${snapshot.mode}, expected ${record.mode}` };
  }
  return { status: "Healthy", message: `file ${record.path} is as applied` };
}
