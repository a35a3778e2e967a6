import { readFile, realpath, stat } from "node:fs/promises";
import { parseBounded } from "../yaml-bounds.js";
import path from "node:path";
import { stalled } from "../../core/errors.js";
import type { JsonValue } from "../../core/json.js";
import { isJsonObject } from "../../core/json.js";
import type { ManifestFile } from "../load-files.js";
import { loadManifestFiles, MAX_MANIFEST_BYTES } from "../load-files.js";
import type { RenderResult } from "../renderer.js";
import type { RenderInputs } from "./content-digest.js";
import { findExecutable } from "./find-tool.js";
import type { ToolOptions } from "./tool-options.js";
import { runTool, TOOL_DEFAULTS } from "./run-tool.js";
import { objectsFromOutputOffThread } from "./tool-output.js";

/** The names kustomize recognizes, in the order it looks for them. */
export const KUSTOMIZATION_FILES = ["kustomization.yaml", "kustomization.yml", "Kustomization"] as const;

/** The repository-relative path of the directory's kustomization file, or undefined. */
export async function findKustomization(root: string, dir: string): Promise<string | undefined> {
  for (const name of KUSTOMIZATION_FILES) {
    const file = join(dir, name);
    const info = await stat(path.join(root, file)).catch(() => undefined);
    if (info?.isFile()) return file;
  }
  return undefined;
}

/**
 * Renders a kustomization with `kustomize build`, or `kubectl kustomize`
 * when only kubectl is installed, run on the checkout in place. Objects are
 * attributed to the kustomization file: kustomize's output keeps no lines.
 */
export async function renderKustomize(root: string, dir: string, kustomization: string, options: ToolOptions = {}): Promise<RenderResult> {
  const shown = dir === "" ? "." : dir;
  const tool = await kustomizeCommand(options);
  const what = `kustomize build ${shown}`;
  const output = await runTool({
    command: tool.command,
    args: [...tool.args, shown],
    cwd: root,
    what,
    install: "kustomize, or kubectl (which has kustomize built in)",
    timeoutMs: options.timeoutMs ?? TOOL_DEFAULTS.timeoutMs,
    maxOutputBytes: options.maxOutputBytes ?? TOOL_DEFAULTS.maxOutputBytes,
  });
  return objectsFromOutputOffThread([{ content: output, file: kustomization }], what);
}

/** `kustomize build` or `kubectl kustomize`, whichever is installed (kustomize first). */
export async function kustomizeCommand(options: ToolOptions): Promise<{ command: string; args: string[]; name: string }> {
  if (options.kustomize) return { command: options.kustomize, args: ["build"], name: "kustomize" };
  if (options.kubectl) return { command: options.kubectl, args: ["kustomize"], name: "kubectl" };
  const kustomize = await findExecutable(["kustomize"]);
  if (kustomize) return { command: kustomize, args: ["build"], name: "kustomize" };
  const kubectl = await findExecutable(["kubectl"]);
  if (kubectl) return { command: kubectl, args: ["kustomize"], name: "kubectl" };
  throw stalled("RenderToolMissing", "rendering a kustomization needs kustomize or kubectl on PATH: install kustomize, or kubectl (which has kustomize built in)");
}

/**
 * The YAML files a kustomization reads (`kustomizeInputs`): every one under
 * its directories and those it names outside them, for finding the SOPS file
 * a rendered Secret came from. Files kustomize already read are read again
 * here; one that cannot be read is left out (kustomize said what was wrong).
 */
export async function loadKustomizeSources(root: string, inputs: RenderInputs): Promise<ManifestFile[]> {
  const files = new Map<string, ManifestFile>();
  for (const dir of inputs.directories) for (const file of await loadManifestFiles(root, dir)) files.set(file.path, file);
  const realRoot = await realpath(root);
  for (const file of inputs.files) {
    if (!/\.ya?ml$/.test(file) || files.has(file)) continue;
    // A link out of the checkout is no source of the repository.
    const real = await realpath(path.join(root, file)).catch(() => undefined);
    const relative = real === undefined ? undefined : path.relative(realRoot, real);
    if (relative === undefined || relative === "" || relative.startsWith("..") || path.isAbsolute(relative)) continue;
    const info = await stat(real ?? "").catch(() => undefined);
    if (!info?.isFile() || info.size > MAX_MANIFEST_BYTES) continue;
    const content = await readFile(real ?? "", "utf8").catch(() => undefined);
    if (content !== undefined) files.set(file, { path: file, content });
  }
  return [...files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Fields of a kustomization that name local files or directories. */
const PATH_LISTS = ["resources", "bases", "components", "crds", "patchesStrategicMerge", "generators", "transformers", "validators", "configurations"];

/**
 * What a kustomization reads: its directory, and every local directory or
 * file it names outside it (bases, components, patches, generator files),
 * followed through the kustomizations of the bases. `remote` is true when it
 * names a URL, whose content no digest of the repository can cover;
 * `generators` is true when one of them declares generators or transformers,
 * whose configurations may read files the kustomization does not name.
 */
export async function kustomizeInputs(root: string, dir: string): Promise<{ inputs: RenderInputs; remote: boolean; generators?: true }> {
  const directories = new Set<string>();
  const files = new Set<string>();
  let remote = false;
  let generators = false;
  const visit = async (current: string, depth: number): Promise<void> => {
    if (directories.has(current) || depth > 20) return;
    directories.add(current);
    const file = await findKustomization(root, current);
    if (!file) return;
    let document: unknown;
    try {
      document = parseBounded(file, await readFile(path.join(root, file), "utf8"));
    } catch {
      return; // the tool reports a broken kustomization, with its own words
    }
    if (isJsonObject(document) && ["generators", "transformers"].some((f) => Array.isArray(document[f]) && document[f].length > 0)) generators = true;
    for (const reference of referencedPaths(document)) {
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(reference) || /^(github\.com|gitlab\.com|bitbucket\.org)\//.test(reference) || reference.startsWith("git@")) {
        remote = true;
        continue;
      }
      const target = join(current, reference);
      if (target.startsWith("..")) continue; // outside the repository: kustomize refuses it
      const info = await stat(path.join(root, target)).catch(() => undefined);
      if (info?.isDirectory()) await visit(target, depth + 1);
      else if (info?.isFile() && !isUnder(target, current)) files.add(target);
    }
  };
  await visit(dir, 0);
  const all = [...directories];
  // A directory inside another one is read with it.
  const outer = all.filter((d) => !all.some((other) => other !== d && isUnder(d, other)));
  return { inputs: { directories: outer.sort(), files: [...files].filter((f) => !outer.some((d) => isUnder(f, d))).sort() }, remote, ...(generators ? { generators: true as const } : {}) };
}

function referencedPaths(document: unknown): string[] {
  if (!isJsonObject(document)) return [];
  const out: string[] = [];
  const strings = (value: JsonValue | undefined): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : []);
  for (const field of PATH_LISTS) out.push(...strings(document[field]).filter((s) => !s.includes("\n")));
  for (const field of ["patches", "patchesJson6902", "replacements"]) {
    for (const entry of Array.isArray(document[field]) ? document[field] : []) {
      if (isJsonObject(entry) && typeof entry["path"] === "string") out.push(entry["path"]);
    }
  }
  for (const field of ["configMapGenerator", "secretGenerator"]) {
    for (const entry of Array.isArray(document[field]) ? document[field] : []) {
      if (!isJsonObject(entry)) continue;
      for (const item of [...strings(entry["files"]), ...strings(entry["envs"]), ...(typeof entry["env"] === "string" ? [entry["env"]] : [])]) {
        out.push(item.includes("=") ? item.slice(item.indexOf("=") + 1) : item);
      }
    }
  }
  const openapi = document["openapi"];
  if (isJsonObject(openapi) && typeof openapi["path"] === "string") out.push(openapi["path"]);
  return out;
}

/** Joins repository-relative paths and normalizes them (`apps/web` + `../base` -> `apps/base`). */
function join(dir: string, relative: string): string {
  const joined = path.posix.normalize(path.posix.join(dir === "" ? "." : dir, relative));
  return joined === "." ? "" : joined.replace(/\/$/, "");
}

function isUnder(child: string, dir: string): boolean {
  return dir === "" || child === dir || child.startsWith(`${dir}/`);
}
