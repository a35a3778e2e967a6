import type { Problem } from "../core/errors.js";
import type { RenderedObject } from "../core/objects.js";
import type { ManifestFile } from "./load-files.js";

/** What rendering a directory produced: objects sorted by key, or the problems that stop it. */
export interface RenderResult {
  readonly objects: RenderedObject[];
  readonly problems: Problem[];
}

/** Hints for rendering. Every field is optional so callers that know nothing more can pass `{}`. */
export interface RenderOptions {
  /** The directory the files were loaded from, relative to the repository root (`apps/web`); default: the root. */
  readonly dir?: string;
}

/** The layouts Ferry renders: the pure renderers, and the tools `renderSource` runs. */
export type RendererName = "plain" | "overlay" | "kustomize" | "helm";

/**
 * One way of turning a directory into objects. `render.ts` asks each
 * renderer in turn whether it recognizes the directory (an overlay by its
 * marker file, later Kustomize by `kustomization.yaml`), so a new layout
 * slots in without the engine changing.
 */
export interface Renderer {
  readonly name: RendererName;
  /** True when the directory is laid out for this renderer. */
  detect(files: readonly ManifestFile[], options: RenderOptions): boolean;
  /** Renders the files. Pure. */
  render(files: readonly ManifestFile[], options: RenderOptions): RenderResult;
}
