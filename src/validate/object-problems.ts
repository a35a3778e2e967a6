import type { Problem } from "../core/errors.js";
import { problemAt } from "../core/errors.js";
import type { RenderedObject } from "../core/objects.js";
import { ANNOTATIONS, locate } from "../core/objects.js";
import type { TargetValidator } from "../targets/target.js";

/**
 * The problems of objects against a target's kinds and schemas, and of
 * Ferry's own annotations. The engine's validate stage and `ferry validate`
 * share it. `context` holds the objects whose kind definitions count (by
 * default the objects themselves; `ferry validate` passes the whole
 * repository's). Pure.
 */
export function objectProblems(objects: readonly RenderedObject[], target: TargetValidator, context: readonly RenderedObject[] = objects): Problem[] {
  const validator = target.withObjects?.(context) ?? target;
  const problems: Problem[] = [];
  for (const object of objects) {
    const { apiVersion, kind } = object.manifest;
    if (!validator.supports(apiVersion, kind)) {
      problems.push(problemAt(`unknown kind ${JSON.stringify(kind)} (apiVersion ${apiVersion}) for target ${validator.name}`, locate(object.origin, "/kind"), "/kind"));
      continue;
    }
    problems.push(...annotationProblems(object), ...validator.validate(object));
  }
  return problems;
}

function annotationProblems(object: RenderedObject): Problem[] {
  const annotations = object.manifest.metadata.annotations ?? {};
  const problems: Problem[] = [];
  const wave = annotations[ANNOTATIONS.wave];
  if (wave !== undefined && !/^-?\d+$/.test(wave)) {
    const field = `/metadata/annotations/${ANNOTATIONS.wave.replace(/\//g, "~1")}`;
    problems.push(problemAt(`wave must be an integer, got ${JSON.stringify(wave)}`, locate(object.origin, field), field));
  }
  const prune = annotations[ANNOTATIONS.prune];
  if (prune !== undefined && prune !== "disabled" && prune !== "enabled") {
    const field = `/metadata/annotations/${ANNOTATIONS.prune.replace(/\//g, "~1")}`;
    problems.push(problemAt(`prune must be "enabled" or "disabled", got ${JSON.stringify(prune)}`, locate(object.origin, field), field));
  }
  const secret = annotations[ANNOTATIONS.secret];
  if (secret !== undefined && secret !== "true" && secret !== "false") {
    const field = `/metadata/annotations/${ANNOTATIONS.secret.replace(/\//g, "~1")}`;
    problems.push(problemAt(`secret must be "true" or "false", got ${JSON.stringify(secret)}`, locate(object.origin, field), field));
  }
  return problems;
}
