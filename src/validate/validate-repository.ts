import { stat } from "node:fs/promises";
import type { Application } from "../config/application.js";
import { APPLICATION_KIND, FERRY_API_VERSION, normalizeApplication } from "../config/application.js";
import { loadApplications } from "../config/load-config.js";
import type { Problem } from "../core/errors.js";
import { stalled, toFerryError } from "../core/errors.js";
import { displayKey } from "../core/ids.js";
import { isJsonObject } from "../core/json.js";
import type { SourceLocation } from "../core/location.js";
import { formatLocation } from "../core/location.js";
import type { RenderedObject } from "../core/objects.js";
import type { Pipeline } from "../config/pipeline.js";
import { locate } from "../core/objects.js";
import type { ManifestFile } from "../render/load-files.js";
import { loadManifestFiles } from "../render/load-files.js";
import { renderDirectory } from "../render/render.js";
import type { RenderSourceOptions, SourceRender } from "../render/render-source.js";
import { helmOptionsOf, isToolFailure, renderSource } from "../render/render-source.js";
import type { DecryptedFiles } from "../secrets/decrypt-files.js";
import { decryptManifestFiles } from "../secrets/decrypt-files.js";
import type { DecryptedObjects } from "../secrets/decrypt-rendered.js";
import { decryptRenderedObjects, holdsEncryptedContent } from "../secrets/decrypt-rendered.js";
import { undecryptedContentProblems } from "../secrets/undecrypted-content.js";
import { TARGETS } from "../targets/registry.js";
import { resolveInArtifact, staysInsideRealRoot } from "../targets/host/host-paths.js";
import type { TargetValidator } from "../targets/target.js";
import { unmatchedHealthRuleProblems } from "./health-rule-check.js";
import { objectProblems } from "./object-problems.js";
import { policyProblems } from "./policy-check.js";

/** A problem `ferry validate` reports: always at a place in a file, and named by the check that found it. */
export interface ReportedProblem extends Problem {
  readonly location: SourceLocation;
  /** `render`, `schema`, `references`, `duplicates` or `policy/<rule>`. */
  readonly rule: string;
}

/** What validating a repository found, and what it looked at. */
export interface ValidationReport {
  /** Sorted by file, line and column. */
  readonly problems: readonly ReportedProblem[];
  readonly applications: number;
  readonly files: number;
  readonly objects: number;
  /** Text of every manifest file read, by path relative to the repository, for snippets. */
  readonly sources: ReadonlyMap<string, string>;
  /** Files holding encrypted values (SOPS, age): checked for structure only, never decrypted. */
  readonly encryptedFiles: number;
}

/** How to validate. */
export interface ValidateOptions {
  /** Directory of the Application documents, relative to the repository (default `ferry`). */
  readonly configPath?: string;
  /** The host target's allowed root, when known: absolute paths are judged against it. */
  readonly root?: string;
  /** The targets Applications may name (default: every target of the registry). */
  readonly targets?: ReadonlyMap<string, TargetValidator>;
  /** Tools, limits and cache for Kustomize and Helm sources. */
  readonly render?: RenderSourceOptions;
}

/**
 * Checks a checkout as the agent would before applying it, without an agent:
 * Ferry's own documents, every application's rendered objects against its
 * target's schemas, references (dependsOn, target, source.path, contentFrom),
 * objects claimed by two applications, and the repository's Policy rules.
 * Throws when it cannot run at all (no such directory, no Application documents).
 */
export async function validateRepository(dir: string, options: ValidateOptions = {}): Promise<ValidationReport> {
  const configPath = options.configPath ?? "ferry";
  const targets = options.targets ?? new Map<string, TargetValidator>(TARGETS.map((t) => [t.name, t.validator(options.root !== undefined ? { root: options.root } : {})]));
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw stalled("ValidateFailed", `${dir} is not a directory`);
  const sources = new Map<string, string>();
  const problems: ReportedProblem[] = [];
  const add = (found: readonly Problem[], rule: string | ((p: Problem) => string), fallback: SourceLocation): void => {
    for (const p of found) problems.push({ ...p, location: p.location ?? fallback, rule: typeof rule === "string" ? rule : rule(p) });
  };

  const configFiles = await loadManifestFiles(dir, configPath);
  for (const f of configFiles) sources.set(f.path, f.content);
  const config = renderDirectory(configFiles, {});
  const configFallback = { file: configFiles[0]?.path ?? configPath, line: 1, column: 1 };
  add(config.problems, "render", configFallback);
  const documents = config.objects.filter((o) => o.manifest.apiVersion === FERRY_API_VERSION && o.manifest.kind === APPLICATION_KIND);
  if (documents.length === 0 && config.problems.length === 0) {
    throw stalled("ValidateFailed", `no Application documents found in ${configPath}/ (use --path to point at them)`);
  }
  const loaded = loadApplications(config.objects);
  add(loaded.problems, configRule, configFallback);

  // Every Application that passes its own schema is rendered, also when its references are broken, so one run reports everything.
  const applications = new Map<string, Application>();
  for (const document of documents) {
    const app = normalizeApplication(document).application;
    if (app && !applications.has(app.name)) applications.set(app.name, app);
  }
  const owners = new Map<string, { application: string; object: RenderedObject }>();
  const allObjects: RenderedObject[] = [...config.objects];
  let files = configFiles.length;
  const checks: { objects: readonly RenderedObject[]; target: TargetValidator; origin: SourceLocation }[] = [];
  const renderedBy = new Map<string, { readonly objects: readonly RenderedObject[]; readonly target?: TargetValidator }>();
  const encryptedFiles = new Set<string>();
  for (const app of applications.values()) {
    const at = (field: string): SourceLocation => locate(app.origin, field);
    const target = targets.get(app.spec.target);
    if (!target) {
      const known = [...targets.keys()].join(", ");
      add([{ severity: "error", message: `unknown target ${JSON.stringify(app.spec.target)}: known targets are ${known}`, field: "/spec/target", location: at("/spec/target") }], "references", app.origin);
    }
    if (app.spec.source.repoURL !== undefined) {
      const message = "source.repoURL names another repository: its manifests are not checked here (validate that repository too)";
      add([{ severity: "warning", message, field: "/spec/source/repoURL", location: at("/spec/source/repoURL") }], "references", app.origin);
      continue;
    }
    let rendered: SourceRender;
    // No key here: encrypted values are checked for structure and typed placeholders stand in.
    let decryption: DecryptedFiles | undefined;
    const decrypt = (loaded: readonly ManifestFile[]): readonly ManifestFile[] => {
      decryption = decryptManifestFiles(loaded, undefined);
      return decryption.files;
    };
    let renderedDecryption: DecryptedObjects | undefined;
    const decryptRendered = async (objects: readonly RenderedObject[], readSources: () => Promise<readonly ManifestFile[]>): Promise<readonly RenderedObject[]> => {
      if (!holdsEncryptedContent(objects)) return objects;
      renderedDecryption = decryptRenderedObjects(objects, await readSources(), undefined);
      return renderedDecryption.objects;
    };
    try {
      rendered = await renderSource(dir, app.spec.source.path, {
        ...options.render,
        helm: { ...helmOptionsOf(app), ...options.render?.helm },
        prepareFiles: decrypt,
        prepareRendered: decryptRendered,
      });
    } catch (error) {
      const failure = toFerryError(error);
      const message = `application ${app.name}: ${failure.message}`;
      add([{ severity: "error", message, field: "/spec/source/path", location: at("/spec/source/path") }], isToolFailure(failure) ? "render" : "references", app.origin);
      continue;
    }
    files += rendered.files.length;
    for (const f of rendered.files) sources.set(f.path, f.content);
    // The target's defaults (a Kubernetes namespace) decide which object is which, as they do in the agent.
    const decrypted = decryption as DecryptedFiles | undefined;
    if (decrypted) {
      add(decrypted.problems, "secrets", app.origin);
      for (const path of decrypted.secret.keys()) encryptedFiles.add(path);
    }
    const fromRender = renderedDecryption as DecryptedObjects | undefined;
    if (fromRender) {
      add(fromRender.problems, "secrets", app.origin);
      for (const path of fromRender.sources) encryptedFiles.add(path);
    }
    add(undecryptedContentProblems(rendered.objects, rendered.renderer), "secrets", app.origin);
    if (target?.prepare) rendered = { ...rendered, objects: [...target.prepare(rendered.objects, app.spec.settings ?? {})] };
    add(
      rendered.problems.map((p) => (/layout: only an application's source.path/.test(p.message) ? { ...p, message: `application ${app.name}: ${p.message}` } : p)),
      (p) => (/declared twice/.test(p.message) ? "duplicates" : "render"),
      app.origin,
    );
    if (target) checks.push({ objects: rendered.objects, target, origin: app.origin });
    renderedBy.set(app.name, { objects: rendered.objects, ...(target ? { target } : {}) });
    add(await contentFromProblems(dir, rendered.objects), "references", app.origin);
    for (const object of rendered.objects) {
      allObjects.push(object);
      // The same object on two clusters (or targets) is two objects: one Application per cluster is the usual layout.
      const place = JSON.stringify([app.spec.target, app.spec.cluster ?? "", object.key]);
      const first = owners.get(place);
      if (!first) {
        owners.set(place, { application: app.name, object });
        continue;
      }
      const where = formatLocation(locate(first.object.origin, "/metadata/name"));
      const message = `${displayKey(object.key)} is declared by applications ${JSON.stringify(first.application)} (at ${where}) and ${JSON.stringify(app.name)}: one object can have one owner`;
      add([{ severity: "error", message, field: "/metadata/name", location: locate(object.origin, "/metadata/name") }], "duplicates", object.origin);
    }
  }
  // Schemas are checked once every application is rendered: a CRD of one application defines the kind another one uses.
  // ... and a host File's path is judged against every File of the repository: one path, one owner.
  for (const check of checks) add(objectProblems(check.objects, check.target, allObjects), (p) => (/one path can have one owner/.test(p.message) ? "duplicates" : "schema"), check.origin);
  for (const p of policyProblems(loaded.policies, allObjects)) problems.push({ ...p, location: p.location ?? configFallback });
  for (const pipeline of loaded.pipelines) add(verificationProblems(pipeline, renderedBy), "references", pipeline.origin);
  add(unmatchedHealthRuleProblems(loaded.healthRules, allObjects), "references", configFallback);
  return { problems: sortProblems(problems), applications: applications.size, files, objects: allObjects.length, sources, encryptedFiles: encryptedFiles.size };
}

/**
 * A step's `verify.job` must name a Job of the environment's application that
 * its target can run again for each version; anything else could only pass
 * on an older run, so it is refused where the pipeline names it.
 */
function verificationProblems(pipeline: Pipeline, renderedBy: ReadonlyMap<string, { readonly objects: readonly RenderedObject[]; readonly target?: TargetValidator }>): Problem[] {
  const problems: Problem[] = [];
  for (const step of pipeline.steps) {
    const job = step.verify.job;
    const rendered = renderedBy.get(step.application);
    // Another repository's application (or one whose target is unknown) is reported where it is declared.
    if (job === undefined || !rendered?.target) continue;
    const field = `/spec/environments/${step.index}/verify/job`;
    const named = rendered.objects.filter((o) => o.manifest.metadata.name === job);
    const runnable = named.find((o) => rendered.target?.runnable?.(o) === undefined);
    if (runnable) continue;
    const why = named[0] && rendered.target.runnable ? rendered.target.runnable(named[0]) : undefined;
    const message =
      named.length === 0
        ? `verify.job ${JSON.stringify(job)}: application ${step.application} declares no Job of that name, so nothing can verify each version in ${step.environment}`
        : `verify.job ${JSON.stringify(job)} of ${step.environment} cannot be run again for each version: ${why ?? `target ${rendered.target.name} runs no job on demand`}`;
    problems.push({ severity: "error", message, field, location: locate(pipeline.origin, field) });
  }
  return problems;
}

/** Host Files whose `contentFrom` names a file that is not in the repository (resolved as the host target does). */
async function contentFromProblems(repository: string, objects: readonly RenderedObject[]): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const object of objects) {
    const spec = object.manifest["spec"];
    const written = isJsonObject(spec) ? spec["contentFrom"] : undefined;
    if (object.manifest.kind !== "File" || typeof written !== "string" || written === "") continue;
    const field = "/spec/contentFrom";
    const from = locate(object.origin, field).file;
    const source = resolveInArtifact(repository, from, written);
    // Escaping paths are the schema's problem (reported by the target's validation).
    if (source === undefined) continue;
    const inside = await staysInsideRealRoot(repository, source).catch(() => false);
    const info = inside ? await stat(source).catch(() => undefined) : undefined;
    let message: string | undefined;
    if (!inside) message = `contentFrom ${JSON.stringify(written)} resolves through a symbolic link to a place outside the repository`;
    else if (!info) message = `contentFrom ${JSON.stringify(written)} does not exist in the repository (it is relative to ${dirOf(from)})`;
    else if (!info.isFile()) message = `contentFrom ${JSON.stringify(written)} is not a file`;
    if (message) problems.push({ severity: "error", message, field, location: locate(object.origin, field) });
  }
  return problems;
}

function dirOf(file: string): string {
  const slash = file.lastIndexOf("/");
  return slash === -1 ? "the repository root" : `${file.slice(0, slash)}/`;
}

/** The check a problem of the config loader belongs to. */
function configRule(problem: Problem): string {
  if (/^(unknown application|dependency cycle|application .* depends on itself|unknown environment|environment .* (is listed twice|has several applications)|application .* is already environment)/.test(problem.message)) {
    return "references";
  }
  if (/declared twice|^health rules .* both match/.test(problem.message)) return "duplicates";
  return "schema";
}

function sortProblems(problems: readonly ReportedProblem[]): ReportedProblem[] {
  const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return problems
    .map((problem, order) => ({ problem, order }))
    .sort(
      (a, b) =>
        compare(a.problem.location.file, b.problem.location.file) ||
        a.problem.location.line - b.problem.location.line ||
        a.problem.location.column - b.problem.location.column ||
        a.order - b.order,
    )
    .map((x) => x.problem);
}
