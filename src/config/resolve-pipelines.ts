import type { Problem } from "../core/errors.js";
import { problemAt } from "../core/errors.js";
import { formatLocation } from "../core/location.js";
import type { RenderedObject } from "../core/objects.js";
import { locate } from "../core/objects.js";
import type { Application } from "./application.js";
import type { Pipeline, PipelineStep } from "./pipeline.js";
import { normalizePipeline } from "./pipeline.js";

/**
 * Normalizes Pipeline documents and resolves each environment to its
 * application: the one named, or the only Application whose
 * `spec.environment` is the environment's name. Reports, on the line of the
 * field: a pipeline declared twice, an environment listed twice (a promotion
 * path is a line and cannot come back), an application that does not exist,
 * none or several candidates, one application in two environments. Pure.
 */
export function resolvePipelines(
  objects: readonly RenderedObject[],
  declared: ReadonlyMap<string, RenderedObject>,
  applications: ReadonlyMap<string, Application>,
): { pipelines: Pipeline[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const pipelines = new Map<string, Pipeline>();
  const firstDeclared = new Map<string, RenderedObject>();
  for (const object of objects) {
    const normalized = normalizePipeline(object);
    problems.push(...normalized.problems);
    const at = (index: number, field: string, message: string): void => {
      const pointer = `/spec/environments/${index}${field}`;
      problems.push(problemAt(message, locate(object.origin, pointer), pointer));
    };
    const pipeline = normalized.pipeline;
    if (!pipeline) {
      // Its schema failed: its environments are still checked, so one run reports every problem.
      resolveSteps(readableSteps(object), declared, applications, at);
      continue;
    }
    const first = firstDeclared.get(pipeline.name);
    if (first) {
      problems.push(
        problemAt(`pipeline ${JSON.stringify(pipeline.name)} is declared twice: first at ${formatLocation(locate(first.origin, "/metadata/name"))}`, locate(object.origin, "/metadata/name"), "/metadata/name"),
      );
      continue;
    }
    firstDeclared.set(pipeline.name, object);
    const before = problems.length;
    const steps = resolveSteps(pipeline.steps, declared, applications, at);
    if (problems.length === before) pipelines.set(pipeline.name, { ...pipeline, steps });
  }
  return { pipelines: [...pipelines.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)), problems };
}

/**
 * Resolves each step's application, reporting through `at` an environment
 * listed twice, an unknown application, none or several candidates, and one
 * application in two environments. Returns the steps that resolved.
 */
function resolveSteps<T extends Pick<PipelineStep, "environment" | "application" | "index">>(
  list: readonly T[],
  declared: ReadonlyMap<string, RenderedObject>,
  applications: ReadonlyMap<string, Application>,
  at: (index: number, field: string, message: string) => void,
): T[] {
  const steps: T[] = [];
  const environments = new Map<string, number>();
  const owners = new Map<string, string>();
  for (const step of list) {
    const seen = environments.get(step.environment);
    if (seen !== undefined) {
      at(step.index, "/name", `environment ${JSON.stringify(step.environment)} is listed twice (first at position ${seen + 1}): a promotion path cannot come back to an environment`);
      continue;
    }
    environments.set(step.environment, step.index);
    const application = step.application !== "" ? step.application : candidateFor(step, applications, at);
    if (application === undefined) continue;
    if (step.application !== "" && !declared.has(application)) {
      at(step.index, "/application", `unknown application ${JSON.stringify(application)}: no Application of that name at the config path`);
      continue;
    }
    const owner = owners.get(application);
    if (owner !== undefined) {
      at(step.index, step.application !== "" ? "/application" : "/name", `application ${JSON.stringify(application)} is already environment ${JSON.stringify(owner)} of this pipeline`);
      continue;
    }
    owners.set(application, step.environment);
    steps.push({ ...step, application });
  }
  return steps;
}

/** The environments of a Pipeline whose schema failed, as far as their name and application can be read. */
function readableSteps(object: RenderedObject): { environment: string; application: string; index: number }[] {
  const spec = object.manifest["spec"];
  const list = typeof spec === "object" && spec !== null && !Array.isArray(spec) ? (spec as Record<string, unknown>)["environments"] : undefined;
  if (!Array.isArray(list)) return [];
  return list.flatMap((entry: unknown, index) => {
    if (typeof entry !== "object" || entry === null) return [];
    const { name, application } = entry as Record<string, unknown>;
    if (typeof name !== "string" || name === "") return [];
    return [{ environment: name, application: typeof application === "string" ? application : "", index }];
  });
}

function candidateFor(step: Pick<PipelineStep, "environment" | "index">, applications: ReadonlyMap<string, Application>, at: (index: number, field: string, message: string) => void): string | undefined {
  const candidates = [...applications.values()].filter((a) => a.spec.environment === step.environment).map((a) => a.name);
  if (candidates.length === 1) return candidates[0];
  if (candidates.length === 0) {
    at(step.index, "/name", `unknown environment ${JSON.stringify(step.environment)}: no Application has spec.environment: ${step.environment}; name one with application:`);
  } else {
    at(step.index, "/name", `environment ${JSON.stringify(step.environment)} has several applications (${candidates.sort().join(", ")}): name one with application:`);
  }
  return undefined;
}
