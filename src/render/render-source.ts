import type { FerryError } from "../core/errors.js";
import type { RenderedObject } from "../core/objects.js";
import type { ManifestFile } from "./load-files.js";
import { loadManifestFiles } from "./load-files.js";
import { loadSourceTree, normalizeDir } from "./load-source.js";
import { overlayFileOf } from "./overlay.js";
import { parseOffThread } from "./parse-pool.js";
import { renderDirectory } from "./render.js";
import type { RendererName, RenderResult } from "./renderer.js";
import { confineHelmChart, confineKustomization } from "./tools/confine.js";
import { digestRenderInputs } from "./tools/content-digest.js";
import { findChart, helmInputs, renderHelm } from "./tools/helm.js";
import { findKustomization, kustomizeCommand, kustomizeInputs, loadKustomizeSources, renderKustomize } from "./tools/kustomize.js";
import { RenderCache } from "./tools/render-cache.js";
import type { HelmOptions, ToolOptions } from "./tools/tool-options.js";

export type { HelmOptions, ToolOptions } from "./tools/tool-options.js";
export { RenderCache } from "./tools/render-cache.js";

/** How to render an application's source directory. */
export interface RenderSourceOptions {
  /** Which tools to run and their limits. */
  readonly tools?: ToolOptions;
  /** Release and values when the directory is a Helm chart. */
  readonly helm?: HelmOptions;
  /** Where tool renders are kept by content; default: one cache for the process. */
  readonly cache?: RenderCache;
  /** Applied to the files of plain manifests and overlays before they render (decryption); the files reported stay as read. */
  readonly prepareFiles?: (files: readonly ManifestFile[]) => readonly ManifestFile[] | Promise<readonly ManifestFile[]>;
  /**
   * Applied to a kustomize render after the cache, which keeps what the tool
   * printed (decryption of the SOPS documents kustomize passed through);
   * `readSources` reads the YAML files the kustomization reads.
   */
  readonly prepareRendered?: (objects: readonly RenderedObject[], readSources: () => Promise<readonly ManifestFile[]>) => readonly RenderedObject[] | Promise<readonly RenderedObject[]>;
}

/** What rendering a source directory produced, and how. */
export interface SourceRender extends RenderResult {
  readonly renderer: RendererName;
  /** The YAML files read from the directory (and its bases), for snippets in reports. */
  readonly files: readonly ManifestFile[];
  /** True when a tool render was taken from the cache instead of running the tool. */
  readonly cached: boolean;
  /** The repository paths the render read: a later commit that changes none of them renders the same. */
  readonly inputs: SourceInputs;
}

/**
 * What a render read, relative to the repository root: whole directories
 * (recursively) and single files. `untracked` says why the render may read
 * more than that (a kustomize remote base), so no commit can be ruled out.
 */
export interface SourceInputs {
  readonly directories: readonly string[];
  readonly files: readonly string[];
  readonly untracked?: string;
}

const sharedCache = new RenderCache();

/** What `helmOptionsOf` reads of an application. */
export interface HelmApplication {
  readonly name: string;
  readonly spec: {
    readonly environment?: string;
    readonly settings?: { readonly namespace?: string };
    readonly source: { readonly helm?: Omit<HelmOptions, "environment"> };
  };
}

/**
 * The Helm options of an application: its `source.helm`, its name as the
 * default release name, its namespace as the default release namespace (as
 * Argo CD templates for the destination namespace), its environment for
 * `values-<env>.yaml`.
 */
export function helmOptionsOf(app: HelmApplication): HelmOptions {
  const helm = app.spec.source.helm ?? {};
  const namespace = helm.namespace ?? app.spec.settings?.namespace;
  return {
    ...helm,
    releaseName: helm.releaseName ?? app.name,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(app.spec.environment !== undefined ? { environment: app.spec.environment } : {}),
  };
}

/** True for an error of a rendering tool (missing, failed, too slow), as opposed to an unreadable directory. */
export function isToolFailure(error: FerryError): boolean {
  return error.reason.startsWith("RenderTool") || error.reason === "RenderTimeout";
}

/**
 * Renders an application's directory of a checkout into objects: a
 * kustomization through kustomize, a Helm chart through `helm template`,
 * anything else as plain manifests or an overlay. Tool renders are cached by
 * the digest of every file they read, so a commit that touches nothing of
 * theirs does not run the tool again; what a kustomize render holds
 * encrypted is decrypted after the cache (`prepareRendered`), so the cache
 * keeps only ciphertext. Throws a FerryError when the directory cannot be
 * read or a tool is missing or fails (naming the directory and keeping the
 * tool's message); problems in the objects come back as `problems`.
 */
export async function renderSource(root: string, dir: string, options: RenderSourceOptions = {}): Promise<SourceRender> {
  const relative = normalizeDir(dir);
  // Reading the directory first refuses paths that leave the checkout, for tools too.
  const own = await loadManifestFiles(root, relative);
  const cache = options.cache ?? sharedCache;
  const tools = options.tools ?? {};
  const kustomization = await findKustomization(root, relative);
  if (kustomization) {
    // Before the cache too: a render cached from before the rule must not slip through.
    await confineKustomization(root, relative);
    const tool = await kustomizeCommand(tools);
    const { inputs, remote, generators } = await kustomizeInputs(root, relative);
    const digest = remote ? undefined : await digestRenderInputs(root, inputs, { renderer: "kustomize", tool: tool.name, dir: relative });
    const untracked = remote ? "its kustomization reads a remote base" : generators ? "its kustomization runs generators or transformers, which may read files it does not name" : undefined;
    const read: SourceInputs = { ...inputs, ...(untracked ? { untracked } : {}) };
    const render = { ...(await cachedRender(cache, digest, own, "kustomize", () => renderKustomize(root, relative, kustomization, tools))), inputs: read };
    if (!options.prepareRendered || render.problems.length > 0) return render;
    const objects = await options.prepareRendered(render.objects, () => loadKustomizeSources(root, inputs));
    return { ...render, objects: [...objects] };
  }
  const chart = await findChart(root, relative);
  if (chart) {
    const helm = options.helm ?? {};
    await confineHelmChart(root, relative, chart, helm);
    const inputs = await helmInputs(root, relative, chart, helm);
    const digest = await digestRenderInputs(root, inputs, { renderer: "helm", dir: relative, helm });
    return { ...(await cachedRender(cache, digest, own, "helm", () => renderHelm(root, relative, helm, tools))), inputs };
  }
  const { files, directories } = await loadSourceTree(root, relative);
  const prepared = options.prepareFiles ? await options.prepareFiles(files) : files;
  await parseOffThread(prepared);
  const result = renderDirectory(prepared, { dir: relative });
  return { ...result, renderer: overlayFileOf(files, relative) ? "overlay" : "plain", files, cached: false, inputs: { directories, files: [] } };
}

async function cachedRender(
  cache: RenderCache,
  digest: string | undefined,
  files: readonly ManifestFile[],
  renderer: RendererName,
  render: () => Promise<RenderResult>,
): Promise<Omit<SourceRender, "inputs">> {
  const found = digest === undefined ? undefined : cache.get(digest);
  if (found) return { ...found, renderer, files, cached: true };
  const result = await render();
  if (digest !== undefined) cache.set(digest, result);
  return { ...result, renderer, files, cached: false };
}
