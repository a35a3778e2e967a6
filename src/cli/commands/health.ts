import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import type { LoadedHealthRule } from "../../config/health-rule.js";
import { HEALTH_RULE_KIND, normalizeHealthRule } from "../../config/health-rule.js";
import { FERRY_API_VERSION } from "../../config/application.js";
import { formatProblem } from "../../core/errors.js";
import type { JsonObject } from "../../core/json.js";
import { isJsonObject } from "../../core/json.js";
import { loadManifestFiles } from "../../render/load-files.js";
import { renderDirectory } from "../../render/render.js";
import { kubernetesObjectName } from "../../targets/kubernetes/health/kubernetes-health.js";
import { HealthRuleSet } from "../../targets/kubernetes/health/rule-set.js";
import { duplicateHealthRuleProblems } from "../../config/health-rule.js";
import { CliError, EXIT } from "../exit-codes.js";

/** Options of `ferry health`. */
export interface HealthCommandOptions {
  /** Directory of HealthRule documents, relative to the working directory; `ferry` is read when it exists. */
  readonly path?: string;
  readonly output: "text" | "json";
}

/** One assessed object, as `-o json` prints it. */
export interface HealthLine {
  readonly object: string;
  readonly status: string;
  readonly message: string;
  readonly rule: string;
}

/**
 * `ferry health FILE.yaml`: the health of saved live objects (`kubectl get -o
 * yaml`, a List too) and the rule that decided each, by the built-in rules
 * and the repository's HealthRules, so a rule can be tried before it is
 * committed. Exit 0 when every object is Healthy, 1 otherwise, 2 when the
 * file or a rule cannot be read.
 */
export async function runHealthCommand(file: string, options: HealthCommandOptions): Promise<number> {
  const rules = HealthRuleSet.withUserRules((await loadRules(options.path)).map((r) => r.rule));
  const objects = await readObjects(file);
  const lines: HealthLine[] = objects.map((object) => {
    const { health, rule } = rules.assess(object);
    return { object: kubernetesObjectName(object), status: health.status, message: health.message, rule };
  });
  if (options.output === "json") console.log(JSON.stringify(lines, null, 2));
  else for (const line of lines) console.log(`${line.object}: ${line.status}: ${line.message}\n  rule: ${line.rule}`);
  return lines.every((l) => l.status === "Healthy") ? EXIT.ok : EXIT.failed;
}

async function loadRules(dir: string | undefined): Promise<LoadedHealthRule[]> {
  const root = process.cwd();
  const relative = dir ?? "ferry";
  const exists = await stat(path.resolve(root, relative)).then((s) => s.isDirectory(), () => false);
  if (!exists) {
    if (dir === undefined) return [];
    throw new CliError(`directory ${dir} not found`);
  }
  const rendered = renderDirectory(await loadManifestFiles(root, relative), {});
  const loaded: LoadedHealthRule[] = [];
  const problems = [...rendered.problems];
  for (const object of rendered.objects) {
    if (object.manifest.apiVersion !== FERRY_API_VERSION || object.manifest.kind !== HEALTH_RULE_KIND) continue;
    const normalized = normalizeHealthRule(object);
    problems.push(...normalized.problems);
    if (normalized.rule) loaded.push(normalized.rule);
  }
  problems.push(...duplicateHealthRuleProblems(loaded));
  const errors = problems.filter((p) => p.severity === "error");
  if (errors.length > 0) throw new CliError(`the health rules in ${relative}/ have problems:\n${errors.map((p) => `  ${formatProblem(p)}`).join("\n")}`);
  return loaded;
}

/** The objects of a YAML file: every document, and the items of a `List`. */
async function readObjects(file: string): Promise<JsonObject[]> {
  const text = await readFile(file, "utf8").catch((error: unknown) => {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
  });
  const objects: JsonObject[] = [];
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0) {
      const error = document.errors[0];
      const at = error?.linePos?.[0];
      throw new CliError(`${file}${at ? `:${at.line}:${at.col}` : ""}: not valid YAML: ${error?.message.split("\n")[0] ?? ""}`);
    }
    const value: unknown = document.toJS();
    if (value === null || value === undefined) continue;
    if (!isJsonObject(value)) throw new CliError(`${file}: a document is not a mapping: expected a Kubernetes object`);
    const items = value["items"];
    if (typeof value["kind"] === "string" && value["kind"].endsWith("List") && Array.isArray(items)) objects.push(...items.filter(isJsonObject));
    else objects.push(value);
  }
  if (objects.length === 0) throw new CliError(`${file} holds no object`);
  return objects;
}
