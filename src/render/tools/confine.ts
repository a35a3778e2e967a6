import type { Dirent } from "node:fs";
import { yamlBoundsProblem } from "../yaml-bounds.js";
import { readdir, readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";
import type { Node as YamlNode } from "yaml";
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import type { Problem } from "../../core/errors.js";
import { formatProblem, problemAt, stalled } from "../../core/errors.js";
import { count } from "../../core/text.js";
import { findChart } from "./helm.js";
import { findKustomization } from "./kustomize.js";
import type { HelmOptions } from "./tool-options.js";

/**
 * Keeps a tool render inside the repository, as Ferry's own overlays,
 * symbolic links and contentFrom are: every path a kustomization names (and
 * those of the kustomizations it reaches), a chart's `file://` dependencies,
 * its values files, and the symbolic links in the directories a tool reads
 * whole must resolve inside the checkout. Kustomize's own load restrictor
 * lets `resources` and bases leave the kustomization's root (only files are
 * restricted), so a commit could render files from anywhere on the agent's
 * machine; here it is refused before the tool runs, naming file:line.
 */

/** One path named in a file: what names it and where. */
interface NamedPath {
  readonly value: string;
  readonly field: string;
  readonly offset: number;
  /** The tool reads a directory here whole (a chart home): links out of it are refused too. */
  readonly whole?: boolean;
}

/** Lists of paths (a string may also be inline YAML: a multi-line entry is content, not a path). */
const PATH_LISTS = ["resources", "bases", "components", "crds", "patchesStrategicMerge", "generators", "transformers", "validators", "configurations"] as const;
/** Lists of objects whose `path` names a file. */
const PATH_OBJECT_LISTS = ["patches", "patchesJson6902", "replacements"] as const;
/** Generators whose `files` (`key=path` or `path`), `envs` and `env` name files. */
const GENERATORS = ["configMapGenerator", "secretGenerator"] as const;
/** At most this many kustomizations are followed from one: a deeper tree is a loop or a mistake. */
const MAX_KUSTOMIZATIONS = 1000;
/** Directory entries looked at for links out of a directory read whole. */
const MAX_WALKED_ENTRIES = 20_000;

/** True for what kustomize fetches rather than reads from disk. */
export function isRemoteReference(reference: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(reference) || /^(github\.com|gitlab\.com|bitbucket\.org)\//.test(reference) || reference.startsWith("git@");
}

/**
 * Refuses a kustomization (`dir` under `root`) that names, directly or
 * through the kustomizations it reaches, a path outside the repository: `..`
 * past the root, an absolute path, or a symbolic link that leads out. Throws
 * a stalled FerryError with a problem per offending entry (file:line).
 */
export async function confineKustomization(root: string, dir: string): Promise<void> {
  const realRoot = await realpath(root);
  const problems: Problem[] = [];
  let bounded = false;
  const seen = new Set<string>();
  const queue = [dir];
  while (queue.length > 0 && seen.size < MAX_KUSTOMIZATIONS) {
    const current = queue.shift() ?? "";
    if (seen.has(current)) continue;
    seen.add(current);
    const file = await findKustomization(root, current);
    if (!file) continue;
    const leak = await escapes(realRoot, root, file);
    if (leak) {
      problems.push(problemAt(`${file} is a symbolic link that leads outside the repository`, { file, line: 1, column: 1 }));
      continue;
    }
    let text: string;
    try {
      text = await readFile(path.join(root, file), "utf8");
    } catch {
      continue; // kustomize says what is wrong with a file it cannot read
    }
    const bounds = yamlBoundsProblem(file, text);
    if (bounds) {
      problems.push(bounds);
      bounded = true;
      continue;
    }
    const lines = new LineCounter();
    const document = parseDocument(text, { lineCounter: lines, uniqueKeys: false });
    const found: Problem[] = [];
    for (const named of namedPaths(document.contents)) {
      const where = (): { file: string; line: number; column: number } => {
        const { line, col } = lines.linePos(named.offset);
        return { file, line, column: col };
      };
      const refuse = (message: string): void => void found.push(problemAt(message, where(), named.field));
      if (isRemoteReference(named.value)) continue;
      if (named.value.includes("\0")) {
        refuse("a path with a NUL character");
        continue;
      }
      if (path.posix.isAbsolute(named.value) || path.win32.isAbsolute(named.value)) {
        refuse(`${JSON.stringify(named.value)} is an absolute path: name files of the repository, relative to the kustomization`);
        continue;
      }
      const target = joinRelative(current, named.value);
      if (target === undefined) {
        refuse(`${JSON.stringify(named.value)} points outside the repository`);
        continue;
      }
      const reason = await escapes(realRoot, root, target);
      if (reason) {
        refuse(`${JSON.stringify(named.value)} ${reason}`);
        continue;
      }
      const info = await stat(path.join(root, target)).catch(() => undefined);
      if (!info?.isDirectory()) continue;
      if (named.whole) {
        const link = await linkOut(realRoot, root, target);
        if (link) refuse(`${JSON.stringify(named.value)} holds ${link}, a symbolic link that leads outside the repository`);
      } else queue.push(target);
    }
    // In the order of the file, as people read it.
    problems.push(...found.sort((a, b) => (a.location?.line ?? 0) - (b.location?.line ?? 0) || (a.location?.column ?? 0) - (b.location?.column ?? 0)));
  }
  if (problems.length > 0) throw refusal(problems, `kustomization ${dir === "" ? "." : dir}`, bounded);
}

/**
 * Refuses a chart render (`dir` under `root`) that reads outside the
 * repository: a `file://` dependency that leaves it, a values file or a
 * symbolic link in the chart (helm follows links) that leads out.
 */
export async function confineHelmChart(root: string, dir: string, chart: string, helm: HelmOptions): Promise<void> {
  const realRoot = await realpath(root);
  const problems: Problem[] = [];
  let bounded = false;
  const charts = new Set<string>();
  const visit = async (chartDir: string, chartFile: string, depth: number): Promise<void> => {
    if (charts.has(chartDir) || depth > 10) return;
    charts.add(chartDir);
    const link = (await escapes(realRoot, root, chartDir)) ? chartDir : await linkOut(realRoot, root, chartDir);
    if (link) problems.push(problemAt(`${link} is a symbolic link that leads outside the repository`, { file: chartFile, line: 1, column: 1 }));
    let text: string;
    try {
      text = await readFile(path.join(root, chartFile), "utf8");
    } catch {
      return;
    }
    const bounds = yamlBoundsProblem(chartFile, text);
    if (bounds) {
      problems.push(bounds);
      bounded = true;
      return;
    }
    const lines = new LineCounter();
    const document = parseDocument(text, { lineCounter: lines, uniqueKeys: false });
    const dependencies = isMap(document.contents) ? document.contents.get("dependencies", true) : undefined;
    if (!isSeq(dependencies)) return;
    for (const [index, item] of dependencies.items.entries()) {
      const repository = isMap(item) ? item.get("repository", true) : undefined;
      if (!isScalar(repository) || typeof repository.value !== "string" || !repository.value.startsWith("file://")) continue;
      const { line, col } = lines.linePos(repository.range?.[0] ?? 0);
      const at = { file: chartFile, line, column: col };
      const field = `/dependencies/${index}/repository`;
      const named = repository.value.slice("file://".length);
      const target = path.posix.isAbsolute(named) ? undefined : joinRelative(chartDir, named);
      const reason = target === undefined ? "points outside the repository" : await escapes(realRoot, root, target);
      if (reason || target === undefined) {
        problems.push(problemAt(`${JSON.stringify(repository.value)} ${reason ?? "points outside the repository"}`, at, field));
        continue;
      }
      const file = await findChart(root, target);
      if (file) await visit(target, file, depth + 1);
    }
  };
  await visit(dir, chart, 0);
  for (const [index, file] of (helm.valuesFiles ?? []).entries()) {
    const reason = await escapes(realRoot, root, file);
    if (reason) problems.push(problemAt(`values file ${JSON.stringify(file)} ${reason}`, undefined, `/spec/source/helm/valuesFiles/${index}`));
  }
  if (problems.length > 0) throw refusal(problems, `helm chart ${dir === "" ? "." : dir}`, bounded);
}

/** The refusal of a render: PathEscapesRepository, or RenderFailed when a file is past the YAML bounds. */
function refusal(problems: readonly Problem[], what: string, bounded: boolean): Error {
  const first = problems[0];
  const more = problems.length > 1 ? ` (and ${count(problems.length - 1, "more problem")})` : "";
  return stalled(bounded ? "RenderFailed" : "PathEscapesRepository", `${what}: ${first ? formatProblem(first) : "a path leaves the repository"}${more}`, { problems });
}

/** Every path a kustomization names, with its field (a JSON pointer) and offset. */
function namedPaths(root: unknown): NamedPath[] {
  if (!isMap(root)) return [];
  const out: NamedPath[] = [];
  const scalar = (node: unknown, field: string, transform: (s: string) => string = (s) => s, whole = false): void => {
    if (!isScalar(node) || typeof node.value !== "string" || node.value.includes("\n")) return;
    const value = transform(node.value).trim();
    if (value !== "") out.push({ value, field, offset: node.range?.[0] ?? 0, ...(whole ? { whole } : {}) });
  };
  const list = (node: unknown, field: string, each: (item: YamlNode | null, field: string) => void): void => {
    if (isSeq(node)) node.items.forEach((item, i) => each(item as YamlNode | null, `${field}/${i}`));
  };
  for (const name of PATH_LISTS) list(root.get(name, true), `/${name}`, (item, field) => scalar(item, field));
  for (const name of PATH_OBJECT_LISTS) list(root.get(name, true), `/${name}`, (item, field) => isMap(item) && scalar(item.get("path", true), `${field}/path`));
  for (const name of GENERATORS) {
    list(root.get(name, true), `/${name}`, (item, field) => {
      if (!isMap(item)) return;
      list(item.get("files", true), `${field}/files`, (file, f) => scalar(file, f, (s) => (s.includes("=") ? s.slice(s.indexOf("=") + 1) : s)));
      list(item.get("envs", true), `${field}/envs`, (env, f) => scalar(env, f));
      scalar(item.get("env", true), `${field}/env`);
    });
  }
  const openapi = root.get("openapi", true);
  if (isMap(openapi)) scalar(openapi.get("path", true), "/openapi/path");
  list(root.get("helmCharts", true), "/helmCharts", (item, field) => {
    if (!isMap(item)) return;
    scalar(item.get("valuesFile", true), `${field}/valuesFile`);
    list(item.get("additionalValuesFiles", true), `${field}/additionalValuesFiles`, (file, f) => scalar(file, f));
  });
  const globals = root.get("helmGlobals", true);
  if (isMap(globals)) {
    scalar(globals.get("chartHome", true), "/helmGlobals/chartHome", undefined, true);
    scalar(globals.get("configHome", true), "/helmGlobals/configHome", undefined, true);
  }
  return out;
}

/** `dir` joined with a relative path, normalized; undefined when it climbs past the repository root. */
function joinRelative(dir: string, relative: string): string | undefined {
  const joined = path.posix.normalize(path.posix.join(dir === "" ? "." : dir, relative));
  if (joined === ".." || joined.startsWith("../")) return undefined;
  return joined === "." ? "" : joined.replace(/\/$/, "");
}

/** Why a repository path leads outside the repository (through a symbolic link), or undefined when it stays in or does not exist. */
async function escapes(realRoot: string, root: string, relative: string): Promise<string | undefined> {
  let real: string;
  try {
    real = await realpath(path.join(root, relative));
  } catch {
    return undefined; // missing: the tool says so in its own words
  }
  return isInside(realRoot, real) ? undefined : "is a symbolic link (or goes through one) that leads outside the repository";
}

/** The first symbolic link under `dir` that leads outside the repository, as a repository path; bounded. */
async function linkOut(realRoot: string, root: string, dir: string): Promise<string | undefined> {
  const pending = [dir];
  let walked = 0;
  while (pending.length > 0 && walked < MAX_WALKED_ENTRIES) {
    const current = pending.pop() ?? "";
    let entries: Dirent[];
    try {
      entries = await readdir(path.join(root, current), { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      walked++;
      const relative = current === "" ? entry.name : `${current}/${entry.name}`;
      if (entry.isSymbolicLink()) {
        const real = await realpath(path.join(root, relative)).catch(() => undefined);
        if (real !== undefined && !isInside(realRoot, real)) return relative;
      } else if (entry.isDirectory()) pending.push(relative);
    }
  }
  return undefined;
}

function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}
