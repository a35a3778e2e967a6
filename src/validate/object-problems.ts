import type { Problem } from "../core/errors.js";
import { problemAt } from "../core/errors.js";
import type { RenderedObject } from "../core/objects.js";
import { ANNOTATIONS, locate } from "../core/objects.js";
import type { TargetValidator } from "../targets/target.js";

/**
 * The problems of objects against a target's kinds and schemas, and of
 * Ferry's own annotations. The engine's validate stage and `ferry validate`
 * share it. Pure.
 */
export function objectProblems(objects: readonly RenderedObject[], target: TargetValidator): Problem[] {
  const problems: Problem[] = [];
  for (const object of objects) {
    const { apiVersion, kind } = object.manifest;
    if (!target.supports(apiVersion, kind)) {
      problems.push(problemAt(`unknown kind ${JSON.stringify(kind)} (apiVersion ${apiVersion}) for target ${target.name}`, locate(object.origin, "/kind"), "/kind"));
      continue;
    }
    problems.push(...annotationProblems(object), ...target.validate(object));
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
