import { stalled } from "../core/errors.js";
import type { ManifestFile } from "./load-files.js";
import { loadManifestFiles } from "./load-files.js";
import { MAX_OVERLAY_DEPTH, overlayBases, overlayFileOf } from "./overlay.js";
import { parseOffThread } from "./parse-pool.js";

/**
 * The files an application's directory renders from: its own, and when it is
 * an overlay, those of its bases (and of theirs), each once. Problems of an
 * overlay file are left for the renderer, which reports them at their line.
 */
export async function loadSourceFiles(root: string, dir: string): Promise<ManifestFile[]> {
  return (await loadSourceTree(root, dir)).files;
}

/** The files an application renders from (see loadSourceFiles), and the directories they came from: its own and its bases'. */
export async function loadSourceTree(root: string, dir: string): Promise<{ files: ManifestFile[]; directories: string[] }> {
  const files = new Map<string, ManifestFile>();
  const visited = new Set<string>();
  const visit = async (current: string, depth: number, via?: string): Promise<void> => {
    const key = normalizeDir(current);
    if (visited.has(key) || depth > MAX_OVERLAY_DEPTH) return;
    visited.add(key);
    let loaded: ManifestFile[];
    try {
      loaded = await loadManifestFiles(root, current);
    } catch (error) {
      if (!via) throw error;
      throw stalled("RenderFailed", `base ${key || "."} of ${via}: ${(error as Error).message}`, { cause: error });
    }
    for (const file of loaded) files.set(file.path, file);
    const overlay = overlayFileOf(loaded, key);
    if (!overlay) return;
    // Its bases are read from it: parsed off the main thread like any file that may be large.
    await parseOffThread([overlay]);
    const { bases } = overlayBases(overlay, key);
    for (const base of bases) await visit(base, depth + 1, overlay.path);
  };
  await visit(dir, 0);
  return { files: [...files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)), directories: [...visited] };
}

/** `apps/web` for `./apps/web/`, `""` for the repository root. */
export function normalizeDir(dir: string): string {
  const segments = dir.split("/").filter((s) => s !== "" && s !== ".");
  return segments.join("/");
}
