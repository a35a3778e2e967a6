import { readFile, stat } from "node:fs/promises";
import { parseBounded } from "../yaml-bounds.js";
import path from "node:path";
import { stalled } from "../../core/errors.js";
import { isJsonObject } from "../../core/json.js";
import type { RenderResult } from "../renderer.js";
import type { RenderInputs } from "./content-digest.js";
import { findExecutable } from "./find-tool.js";
import { runTool, TOOL_DEFAULTS } from "./run-tool.js";
import type { HelmOptions, ToolOptions } from "./tool-options.js";
import type { OutputChunk } from "./tool-output.js";
import { objectsFromOutputOffThread } from "./tool-output.js";

/** The repository-relative path of the directory's `Chart.yaml`, or undefined when it is not a chart. */
export async function findChart(root: string, dir: string): Promise<string | undefined> {
  for (const name of ["Chart.yaml", "Chart.yml"]) {
    const file = dir === "" ? name : `${dir}/${name}`;
    const info = await stat(path.join(root, file)).catch(() => undefined);
    if (info?.isFile()) return file;
  }
  return undefined;
}

/** The values files a render uses, in order: the given ones, then `values-<environment>.yaml` of the chart when present. */
export async function helmValuesFiles(root: string, dir: string, helm: HelmOptions): Promise<string[]> {
  const files = [...(helm.valuesFiles ?? [])];
  if (helm.environment) {
    const own = `${dir === "" ? "" : `${dir}/`}values-${helm.environment}.yaml`;
    if ((await stat(path.join(root, own)).catch(() => undefined))?.isFile()) files.push(own);
  }
  return files;
}

/**
 * Renders a chart with `helm template`, on the checkout in place: its own
 * values.yaml, then the values files, then inline values. CRDs of the chart
 * are included, test hooks left out. Each object is attributed to the
 * template it came from (helm's `# Source:` comment).
 */
export async function renderHelm(root: string, dir: string, helm: HelmOptions = {}, options: ToolOptions = {}): Promise<RenderResult> {
  const shown = dir === "" ? "." : dir;
  const command = options.helm ?? (await findExecutable(["helm"]));
  if (!command) throw stalled("RenderToolMissing", `rendering the helm chart ${shown} needs helm on PATH: install helm 3`);
  const release = helm.releaseName ?? (path.posix.basename(dir) || "release");
  const args = ["template", release, shown, "--include-crds", "--skip-tests"];
  if (helm.namespace) args.push("--namespace", helm.namespace);
  for (const file of await helmValuesFiles(root, dir, helm)) args.push("--values", file);
  for (const [key, value] of Object.entries(helm.values ?? {})) args.push("--set-json", `${key}=${JSON.stringify(value)}`);
  const what = `helm template ${shown}`;
  const output = await runTool({
    command,
    args,
    cwd: root,
    what,
    install: "helm 3",
    timeoutMs: options.timeoutMs ?? TOOL_DEFAULTS.timeoutMs,
    maxOutputBytes: options.maxOutputBytes ?? TOOL_DEFAULTS.maxOutputBytes,
  });
  return objectsFromOutputOffThread(helmChunks(output, dir), what);
}

/** Splits helm's output into documents, each attributed to its `# Source: chart/templates/x.yaml` in the chart directory. */
export function helmChunks(output: string, dir: string): OutputChunk[] {
  const chunks: OutputChunk[] = [];
  for (const content of output.split(/^---[ \t]*$/m)) {
    if (content.trim() === "") continue;
    const source = /^# Source: ([^\n]+)$/m.exec(content)?.[1]?.trim();
    // The first segment is the chart's name; subcharts are under charts/<name>/ in the chart directory.
    const inChart = source?.includes("/") ? source.slice(source.indexOf("/") + 1) : "Chart.yaml";
    chunks.push({ content, file: dir === "" ? inChart : `${dir}/${inChart}` });
  }
  return chunks;
}

/** What a chart render reads: the chart directory, its `file://` dependencies, and the values files. */
export async function helmInputs(root: string, dir: string, chart: string, helm: HelmOptions): Promise<RenderInputs> {
  const directories = new Set([dir]);
  const visit = async (chartDir: string, chartFile: string, depth: number): Promise<void> => {
    let document: unknown;
    try {
      document = parseBounded(chartFile, await readFile(path.join(root, chartFile), "utf8"));
    } catch {
      return;
    }
    const dependencies = isJsonObject(document) && Array.isArray(document["dependencies"]) ? document["dependencies"] : [];
    for (const dependency of dependencies) {
      const repository = isJsonObject(dependency) ? dependency["repository"] : undefined;
      if (typeof repository !== "string" || !repository.startsWith("file://") || depth > 10) continue;
      const target = path.posix.normalize(path.posix.join(chartDir === "" ? "." : chartDir, repository.slice("file://".length)));
      if (target.startsWith("..") || directories.has(target)) continue;
      directories.add(target);
      const file = await findChart(root, target);
      if (file) await visit(target, file, depth + 1);
    }
  };
  await visit(dir, chart, 0);
  return { directories: [...directories].sort(), files: await helmValuesFiles(root, dir, helm) };
}
