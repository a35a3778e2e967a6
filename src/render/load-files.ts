import type { Dirent } from "node:fs";
import { readdir, readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { FerryError, stalled, transient } from "../core/errors.js";

/** One YAML file of a checkout: its path relative to the repository root (forward slashes) and its text. */
export interface ManifestFile {
  readonly path: string;
  readonly content: string;
}

/** Manifest files larger than this are refused: nobody writes 5 MiB of YAML by hand. */
export const MAX_MANIFEST_BYTES = 5 * 1024 * 1024;

const YAML_NAME = /\.(ya?ml|json)$/;

/**
 * A `.json` file is a manifest when it declares an object (`"apiVersion"` or
 * `"kind"`), as Argo CD reads them; any other `.json` file is data (a
 * File's `contentFrom`, a tool's configuration) and not an object to apply.
 */
function isManifestText(rel: string, content: string): boolean {
  return !rel.endsWith(".json") || /"(apiVersion|kind)"\s*:/.test(content);
}

/**
 * Reads every `*.yaml` / `*.yml` file (and `*.json` file that declares an
 * object, see isManifestText) under `root/dir`, recursively, sorted
 * by path. Names starting with `.` are skipped. Throws a stalled FerryError
 * when `dir` leaves the repository (`..`, absolute, or a symbolic link whose
 * real path is outside `root`), is missing, or a file is too large or not UTF-8.
 */
export async function loadManifestFiles(root: string, dir: string, options: { readonly maxFileBytes?: number } = {}): Promise<ManifestFile[]> {
  const relative = checkRelativeDir(dir);
  const shown = relative === "" ? "." : relative;
  const realRoot = await realpath(root).catch((error: unknown) => {
    throw transient("RenderFailed", `cannot open the checkout: ${errorCode(error)}`, { cause: error });
  });
  let start: string;
  try {
    start = await realpath(path.join(realRoot, relative));
  } catch (error) {
    if (errorCode(error) === "enoent" || errorCode(error) === "enotdir") throw stalled("RenderFailed", `directory ${shown} not found`, { cause: error });
    throw transient("RenderFailed", `cannot open directory ${shown}: ${errorCode(error)}`, { cause: error });
  }
  if (!isInside(realRoot, start)) throw stalled("RenderFailed", `directory ${shown} is a symbolic link that leads outside the repository`);
  if (!(await stat(start)).isDirectory()) throw stalled("RenderFailed", `${shown} is not a directory`);

  const walker = new Walker(realRoot, options.maxFileBytes ?? MAX_MANIFEST_BYTES);
  await walker.walk(start, relative, new Set());
  return walker.files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Normalizes `dir` to `a/b` form (`""` for the root) and refuses anything that could leave the repository. */
function checkRelativeDir(dir: string): string {
  if (dir.includes("\0")) throw stalled("RenderFailed", `path ${JSON.stringify(dir)} contains a NUL character`);
  if (path.posix.isAbsolute(dir) || path.win32.isAbsolute(dir)) {
    throw stalled("RenderFailed", `path ${dir} must be relative to the repository root, not absolute`);
  }
  const segments = dir.split("/").filter((s) => s !== "" && s !== ".");
  if (segments.includes("..")) throw stalled("RenderFailed", `path ${dir} leaves the repository: ".." is not allowed`);
  return segments.join("/");
}

/** More files than this in one directory is a mistake (a vendored tree, a link farm), not a deployment. */
export const MAX_MANIFEST_FILES = 10_000;

class Walker {
  readonly files: ManifestFile[] = [];
  readonly #decoder = new TextDecoder("utf-8", { fatal: true });

  constructor(
    private readonly root: string,
    private readonly maxBytes: number,
  ) {}

  /**
   * `ancestors` holds the real paths above this directory: a link back to one
   * of them would loop forever. A link to a sibling is read under both paths,
   * as the directory really declares it twice.
   */
  async walk(realDir: string, relDir: string, ancestors: ReadonlySet<string>): Promise<void> {
    if (ancestors.has(realDir)) return;
    const inside = new Set(ancestors).add(realDir);
    let entries: Dirent[];
    try {
      entries = await readdir(realDir, { withFileTypes: true });
    } catch (error) {
      throw transient("RenderFailed", `cannot list ${relDir || "."}: ${errorCode(error)}`, { cause: error });
    }
    for (const entry of entries) {
      if (entry.name.startsWith(".")) continue;
      const rel = relDir === "" ? entry.name : `${relDir}/${entry.name}`;
      const absolute = path.join(realDir, entry.name);
      if (entry.isDirectory()) await this.walk(absolute, rel, inside);
      else if (entry.isFile()) {
        if (YAML_NAME.test(entry.name)) await this.read(absolute, rel);
      } else if (entry.isSymbolicLink()) await this.follow(absolute, rel, entry.name, inside);
    }
  }

  /** Follows a symbolic link only when it stays inside the repository. */
  private async follow(absolute: string, rel: string, name: string, ancestors: ReadonlySet<string>): Promise<void> {
    let real: string;
    try {
      real = await realpath(absolute);
    } catch (error) {
      if (YAML_NAME.test(name)) throw stalled("RenderFailed", `${rel} is a symbolic link to a missing file`, { cause: error });
      return;
    }
    const info = await stat(real);
    if (!info.isDirectory() && !(info.isFile() && YAML_NAME.test(name))) return;
    if (!isInside(this.root, real)) throw stalled("RenderFailed", `${rel} is a symbolic link that leads outside the repository`);
    if (info.isDirectory()) await this.walk(real, rel, ancestors);
    else await this.read(real, rel);
  }

  private async read(absolute: string, rel: string): Promise<void> {
    let bytes: Buffer;
    try {
      const size = (await stat(absolute)).size;
      if (size > this.maxBytes) throw tooLarge(rel, size, this.maxBytes);
      bytes = await readFile(absolute);
    } catch (error) {
      if (error instanceof FerryError) throw error;
      throw transient("RenderFailed", `cannot read ${rel}: ${errorCode(error)}`, { cause: error });
    }
    // The file may have grown between stat and read.
    if (bytes.length > this.maxBytes) throw tooLarge(rel, bytes.length, this.maxBytes);
    let content: string;
    try {
      content = this.#decoder.decode(bytes);
    } catch (error) {
      throw stalled("RenderFailed", `${rel} is not valid utf-8 text`, { cause: error });
    }
    if (!isManifestText(rel, content)) return;
    if (this.files.length >= MAX_MANIFEST_FILES) {
      throw stalled("RenderFailed", `more than ${MAX_MANIFEST_FILES} yaml files under this directory: point source.path at a smaller one`);
    }
    this.files.push({ path: rel, content });
  }
}

function tooLarge(rel: string, size: number, limit: number): FerryError {
  return stalled("RenderFailed", `${rel} is ${mebibytes(size)}, more than the ${mebibytes(limit)} allowed for a manifest file`);
}

function mebibytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, "")} MiB` : `${bytes} bytes`;
}

function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

function errorCode(error: unknown): string {
  if (typeof error === "object" && error !== null && "code" in error && typeof error.code === "string") return error.code.toLowerCase();
  return error instanceof Error ? error.message : String(error);
}
