import { createHash } from "node:crypto";
import type { Problem } from "../core/errors.js";
import { problemAt } from "../core/errors.js";
import type { Digest } from "../core/ids.js";
import { asDigest } from "../core/ids.js";
import { canonicalJson } from "../core/json.js";
import type { RenderedObject } from "../core/objects.js";
import type { ManifestFile } from "./load-files.js";
import { normalizeDir } from "./load-source.js";
import { overlayFileOf, renderOverlay } from "./overlay.js";
import { renderPlain } from "./render-plain.js";
import type { Renderer, RenderOptions, RenderResult } from "./renderer.js";

export type { Renderer, RendererName, RenderOptions, RenderResult } from "./renderer.js";

const plain: Renderer = { name: "plain", detect: () => true, render: (files) => renderPlain(files) };

const overlay: Renderer = {
  name: "overlay",
  detect: (files, options) => overlayFileOf(files, normalizeDir(options.dir ?? "")) !== undefined,
  render: (files, options) => renderOverlay(files, normalizeDir(options.dir ?? "")),
};

/** Asked in order; the first that recognizes the directory renders it. Plain YAML takes whatever is left. */
const RENDERERS: readonly Renderer[] = [overlay, plain];

/**
 * Layouts rendered by a tool (`renderSource` runs it on the checkout), never
 * from loaded files: rendering them as plain YAML would report confusing
 * errors about their marker files.
 */
const UNSUPPORTED_LAYOUTS: readonly { readonly marker: RegExp; readonly layout: string }[] = [
  { marker: /(^|\/)kustomization\.ya?ml$/, layout: "a kustomize" },
  { marker: /(^|\/)Chart\.ya?ml$/, layout: "a helm chart" },
];

/**
 * Renders the files of one directory at one revision into desired objects,
 * sorted by key, or the problems that stop it. Chooses the renderer by the
 * directory's layout. Pure: the caller loads the files (`loadManifestFiles`).
 */
export function renderDirectory(files: readonly ManifestFile[], options: RenderOptions = {}): RenderResult {
  const unsupported = unsupportedLayoutProblems(files);
  if (unsupported.length > 0) return { objects: [], problems: unsupported };
  const renderer = RENDERERS.find((r) => r.detect(files, options)) ?? plain;
  return renderer.render(files, options);
}

/**
 * sha256 over the canonical JSON of the manifests in key order: the same
 * desired state always has the same digest, whatever the file layout or
 * key order in the YAML, so "nothing changed" is one comparison.
 */
export function renderDigest(objects: readonly RenderedObject[]): Digest {
  const manifests = [...objects].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((o) => o.manifest);
  return asDigest(`sha256:${createHash("sha256").update(canonicalJson(manifests)).digest("hex")}`);
}

function unsupportedLayoutProblems(files: readonly ManifestFile[]): Problem[] {
  const problems: Problem[] = [];
  for (const file of files) {
    const found = UNSUPPORTED_LAYOUTS.find((u) => u.marker.test(file.path));
    if (!found) continue;
    const message = `this directory is ${found.layout} layout: only an application's source.path is rendered with its tool; here ferry reads plain manifests`;
    problems.push(problemAt(message, { file: file.path, line: 1, column: 1 }));
  }
  return problems;
}
