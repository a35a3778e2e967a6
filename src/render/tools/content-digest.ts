import { createHash } from "node:crypto";
import type { Dirent } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { canonicalJson } from "../../core/json.js";

/** Files and directories (relative to the repository root) a render reads. */
export interface RenderInputs {
  /** Directories read whole (recursively; `.git` skipped). */
  readonly directories: readonly string[];
  /** Single files outside those directories. */
  readonly files: readonly string[];
}

/** A directory tree this large is not digested: rendering it again costs less than the guard against it. */
const MAX_DIGEST_FILES = 20_000;

/**
 * sha256 over the repository-relative path and content of every file a
 * render reads, plus the settings that change its output. Two commits that
 * differ only elsewhere give the same digest, wherever they are checked out.
 * Undefined when the inputs are too many to digest.
 */
export async function digestRenderInputs(root: string, inputs: RenderInputs, settings: unknown): Promise<string | undefined> {
  const files = new Set<string>();
  for (const dir of inputs.directories) {
    const found = await listFiles(root, dir, MAX_DIGEST_FILES - files.size);
    if (!found) return undefined;
    for (const file of found) files.add(file);
  }
  for (const file of inputs.files) files.add(file);
  const hash = createHash("sha256").update(canonicalJson(settings)).update("\0");
  for (const file of [...files].sort()) {
    const content = await readFile(path.join(root, file)).catch(() => undefined);
    hash.update(file).update("\0");
    if (content === undefined) hash.update("(absent)");
    else hash.update(String(content.length)).update("\0").update(content);
    hash.update("\0");
  }
  return `sha256:${hash.digest("hex")}`;
}

async function listFiles(root: string, dir: string, budget: number): Promise<string[] | undefined> {
  const out: string[] = [];
  const walk = async (relative: string): Promise<boolean> => {
    let entries: Dirent[];
    try {
      entries = await readdir(path.join(root, relative), { withFileTypes: true });
    } catch {
      return true;
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (entry.name === ".git") continue;
      const child = relative === "" ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!(await walk(child))) return false;
      } else if (entry.isFile() || entry.isSymbolicLink()) {
        out.push(child);
        if (out.length > budget) return false;
      }
    }
    return true;
  };
  return (await walk(dir)) ? out : undefined;
}
