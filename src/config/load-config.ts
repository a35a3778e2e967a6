import type { Problem } from "../core/errors.js";
import { problemAt } from "../core/errors.js";
import { isJsonObject } from "../core/json.js";
import { formatLocation } from "../core/location.js";
import type { RenderedObject } from "../core/objects.js";
import { locate } from "../core/objects.js";
import { isObjectName } from "../render/names.js";
import type { Application } from "./application.js";
import { APPLICATION_KIND, FERRY_API_VERSION, normalizeApplication } from "./application.js";
import type { PolicyRule } from "./policy.js";
import { normalizePolicy, POLICY_KIND } from "./policy.js";
import type { Notification } from "./notification.js";
import { normalizeNotification, NOTIFICATION_KIND } from "./notification.js";
import type { LoadedHealthRule } from "./health-rule.js";
import { duplicateHealthRuleProblems, HEALTH_RULE_KIND, normalizeHealthRule } from "./health-rule.js";
import type { Pipeline } from "./pipeline.js";
import { PIPELINE_KIND } from "./pipeline.js";
import { resolvePipelines } from "./resolve-pipelines.js";

/** The kinds Ferry accepts at its config path. */
export const CONFIG_KINDS: readonly { readonly apiVersion: string; readonly kind: string }[] = [
  { apiVersion: FERRY_API_VERSION, kind: APPLICATION_KIND },
  { apiVersion: FERRY_API_VERSION, kind: POLICY_KIND },
  { apiVersion: FERRY_API_VERSION, kind: NOTIFICATION_KIND },
  { apiVersion: FERRY_API_VERSION, kind: PIPELINE_KIND },
  { apiVersion: FERRY_API_VERSION, kind: HEALTH_RULE_KIND },
];

/** One `dependsOn` entry as written: the name and its index in the list (for its line). */
interface Dependency {
  readonly name: string;
  readonly index: number;
}

/**
 * Turns the objects rendered from the agent's config path into applications
 * (and the rules of Policy documents, Notifications, Pipelines and the
 * compiled HealthRules, two of which must not match the same kind; a Pipeline's
 * environments must name declared applications, each environment once). Every object must be a Ferry config kind; names must be unique; `dependsOn`
 * must name declared applications and must not form a cycle. Applications
 * with a problem of their own stay out of `applications`; every problem is
 * reported (the engine keeps the last good configuration while any exist),
 * sorted by file and line. Pure.
 */
export function loadApplications(objects: readonly RenderedObject[]): {
  applications: Application[];
  policies: PolicyRule[];
  notifications: Notification[];
  pipelines: Pipeline[];
  healthRules: LoadedHealthRule[];
  problems: Problem[];
} {
  const problems: Problem[] = [];
  const policies: PolicyRule[] = [];
  const notifications = new Map<string, Notification>();
  const declared = new Map<string, RenderedObject>();
  const valid = new Map<string, Application>();
  const pipelineObjects: RenderedObject[] = [];
  const healthRules: LoadedHealthRule[] = [];
  for (const object of objects) {
    const { apiVersion, kind, metadata } = object.manifest;
    if (!CONFIG_KINDS.some((k) => k.apiVersion === apiVersion && k.kind === kind)) {
      const kinds = CONFIG_KINDS.map((k) => k.kind);
      const expected = `${FERRY_API_VERSION} ${kinds.slice(0, -1).join(", ")} or ${kinds.at(-1) ?? ""}`;
      problems.push(problemAt(`unknown kind ${JSON.stringify(kind)} (apiVersion ${apiVersion}) at the config path: expected ${expected}`, locate(object.origin, "")));
      continue;
    }
    if (kind === POLICY_KIND) {
      // Policies are for `ferry validate`; the agent checks their schema so a broken one is caught either way.
      const policy = normalizePolicy(object);
      problems.push(...policy.problems);
      policies.push(...policy.rules);
      continue;
    }
    if (kind === NOTIFICATION_KIND) {
      const normalized = normalizeNotification(object);
      problems.push(...normalized.problems);
      if (normalized.notification && notifications.has(normalized.notification.name)) {
        problems.push(problemAt(`notification ${JSON.stringify(metadata.name)} is declared twice`, locate(object.origin, "/metadata/name"), "/metadata/name"));
      } else if (normalized.notification) notifications.set(normalized.notification.name, normalized.notification);
      continue;
    }
    if (kind === PIPELINE_KIND) {
      pipelineObjects.push(object);
      continue;
    }
    if (kind === HEALTH_RULE_KIND) {
      const normalized = normalizeHealthRule(object);
      problems.push(...normalized.problems);
      if (normalized.rule && healthRules.some((r) => r.rule.name === normalized.rule?.rule.name)) {
        problems.push(problemAt(`health rule ${JSON.stringify(metadata.name)} is declared twice`, locate(object.origin, "/metadata/name"), "/metadata/name"));
      } else if (normalized.rule) healthRules.push(normalized.rule);
      continue;
    }
    const first = declared.get(metadata.name);
    if (first) {
      const where = formatLocation(locate(first.origin, "/metadata/name"));
      problems.push(problemAt(`application ${JSON.stringify(metadata.name)} is declared twice: first at ${where}`, locate(object.origin, "/metadata/name"), "/metadata/name"));
      continue;
    }
    declared.set(metadata.name, object);
    const normalized = normalizeApplication(object);
    problems.push(...normalized.problems);
    if (normalized.application) valid.set(metadata.name, normalized.application);
  }

  // Dependencies are checked as written, also for applications with other problems, so one run reports everything.
  const graph = new Map([...declared].map(([name, object]) => [name, writtenDependencies(object)]));
  const broken = new Set<string>();
  const report = (name: string, dependency: Dependency, message: string): void => {
    const object = declared.get(name);
    if (!object) return;
    const field = `/spec/dependsOn/${dependency.index}`;
    problems.push(problemAt(message, locate(object.origin, field), field));
    broken.add(name);
  };
  for (const [name, dependencies] of graph) {
    for (const dependency of dependencies) {
      if (dependency.name === name) report(name, dependency, `application ${JSON.stringify(name)} depends on itself`);
      // An invalid name is already reported by the schema.
      else if (!declared.has(dependency.name) && isObjectName(dependency.name)) {
        report(name, dependency, `unknown application ${JSON.stringify(dependency.name)}: no Application of that name at the config path`);
      }
    }
  }
  for (const cycle of findCycles(graph)) {
    const closing = cycle.at(-2) ?? "";
    const entry = graph.get(closing)?.find((d) => d.name === cycle.at(-1));
    if (entry) report(closing, entry, `dependency cycle: ${cycle.join(" -> ")}`);
    for (const name of cycle) broken.add(name);
  }

  const applications = [...valid.values()].filter((a) => !broken.has(a.name)).sort((a, b) => compare(a.name, b.name));
  const resolved = resolvePipelines(pipelineObjects, declared, valid);
  problems.push(...resolved.problems);
  problems.push(...duplicateHealthRuleProblems(healthRules));
  return { applications, policies, notifications: [...notifications.values()], pipelines: resolved.pipelines, healthRules, problems: sortByLocation(problems) };
}

/**
 * Cycles in a dependency graph, each as `a -> b -> a`, found depth-first in
 * name order so the same configuration always reports the same cycles, each
 * closed by its last edge. Self-dependencies and unknown names are skipped.
 */
export function findCycles(graph: ReadonlyMap<string, readonly Dependency[]>): string[][] {
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (name: string): void => {
    state.set(name, "visiting");
    stack.push(name);
    for (const { name: next } of graph.get(name) ?? []) {
      if (next === name || !graph.has(next)) continue;
      if (state.get(next) === "visiting") cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(name, "done");
  };
  for (const name of [...graph.keys()].sort(compare)) if (!state.has(name)) visit(name);
  return cycles;
}

/** The string entries of `spec.dependsOn` with their indexes; a repeated name counts once. */
function writtenDependencies(object: RenderedObject): Dependency[] {
  const spec = object.manifest["spec"];
  const written = isJsonObject(spec) ? spec["dependsOn"] : undefined;
  if (!Array.isArray(written)) return [];
  const seen = new Set<string>();
  const dependencies: Dependency[] = [];
  (written as readonly unknown[]).forEach((name, index) => {
    if (typeof name !== "string" || seen.has(name)) return;
    seen.add(name);
    dependencies.push({ name, index });
  });
  return dependencies;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortByLocation(problems: readonly Problem[]): Problem[] {
  const file = (p: Problem): string => p.location?.file ?? "";
  return problems
    .map((problem, order) => ({ problem, order }))
    .sort(
      (a, b) =>
        compare(file(a.problem), file(b.problem)) ||
        (a.problem.location?.line ?? 0) - (b.problem.location?.line ?? 0) ||
        (a.problem.location?.column ?? 0) - (b.problem.location?.column ?? 0) ||
        a.order - b.order,
    )
    .map((x) => x.problem);
}
