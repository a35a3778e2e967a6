import path from "node:path";
import { FERRY_API_VERSION } from "../config/application.js";
import type { PolicyRule } from "../config/policy.js";
import type { Problem } from "../core/errors.js";
import type { JsonValue } from "../core/json.js";
import { escapePointerSegment, isJsonObject } from "../core/json.js";
import type { RenderedObject } from "../core/objects.js";
import { locate } from "../core/objects.js";
import { quoteForMessage } from "../render/names.js";

/** A problem found by a policy rule, named `policy/<rule>`. */
export interface PolicyProblem extends Problem {
  readonly rule: string;
}

const HOST_API_VERSION = "host.ferry.dev/v1";

/**
 * True when the rule applies to the object: its match names the object's
 * apiVersion and kind, or leaves them out. Ferry's own documents (Application,
 * Policy) are matched only by a rule that names their apiVersion or kind.
 */
export function ruleMatches(rule: PolicyRule, object: RenderedObject): boolean {
  const { apiVersion, kind } = object.manifest;
  if (apiVersion === FERRY_API_VERSION && rule.match?.apiVersion === undefined && rule.match?.kind === undefined) return false;
  return (rule.match?.apiVersion === undefined || rule.match.apiVersion === apiVersion) && (rule.match?.kind === undefined || rule.match.kind === kind);
}

/** Every way the objects break the rules, each at the offending field. Pure. */
export function policyProblems(rules: readonly PolicyRule[], objects: readonly RenderedObject[]): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const patterns = new Map(rules.map((r) => [r, r.forbid?.pattern === undefined ? undefined : new RegExp(r.forbid.pattern, "u")]));
  for (const object of objects) {
    for (const rule of rules) {
      if (!ruleMatches(rule, object)) continue;
      const report = (field: string, message: string): void => {
        problems.push({ severity: rule.severity, message: rule.message ?? message, field, location: locate(object.origin, field), rule: `policy/${rule.name}` });
      };
      if (rule.requireLabels) checkLabels(rule.requireLabels, object, report);
      if (rule.forbid) checkForbidden(rule.forbid.pointer, patterns.get(rule), object, report);
      if (rule.allowPathPrefixes) checkPathPrefix(rule.allowPathPrefixes, object, report);
    }
  }
  return problems;
}

/** The same problems for places that print only the message (status, logs): the rule is named at its end. */
export function policyProblemsNamed(rules: readonly PolicyRule[], objects: readonly RenderedObject[]): Problem[] {
  return policyProblems(rules, objects).map(({ rule, ...problem }) => ({ ...problem, message: `${problem.message} (${rule})` }));
}

type Report = (field: string, message: string) => void;

function checkLabels(required: readonly string[], object: RenderedObject, report: Report): void {
  const labels = object.manifest.metadata.labels ?? {};
  for (const label of required) {
    if (typeof labels[label] === "string" && labels[label] !== "") continue;
    report(`/metadata/labels/${escapePointerSegment(label)}`, `label ${JSON.stringify(label)} is required`);
  }
}

function checkForbidden(pointer: string, pattern: RegExp | undefined, object: RenderedObject, report: Report): void {
  for (const found of valuesAt(object.manifest, pointer.split("/").slice(1), "")) {
    if (found.value === null || typeof found.value === "object") {
      if (pattern === undefined) report(found.pointer, "this field is not allowed");
      continue;
    }
    const text = String(found.value);
    if (pattern === undefined) report(found.pointer, "this field is not allowed");
    else if (pattern.test(text)) report(found.pointer, `${quoteForMessage(text)} is not allowed (matches /${pattern.source}/)`);
  }
}

function checkPathPrefix(prefixes: readonly string[], object: RenderedObject, report: Report): void {
  const { apiVersion, kind } = object.manifest;
  if (apiVersion !== HOST_API_VERSION || kind !== "File") return;
  const spec = object.manifest["spec"];
  const written = isJsonObject(spec) ? spec["path"] : undefined;
  if (typeof written !== "string") return;
  // Normalized first, so "srv/../etc/passwd" does not pass for the prefix "srv/".
  const normalized = path.posix.normalize(written);
  if (prefixes.some((prefix) => normalized.startsWith(prefix))) return;
  report("/spec/path", `path ${quoteForMessage(written)} is not under an allowed prefix (${prefixes.join(", ")})`);
}

/** The values at a pointer whose segments may be `*` (any key or item), with their concrete pointers. */
function valuesAt(value: JsonValue | undefined, segments: readonly string[], at: string): { pointer: string; value: JsonValue }[] {
  if (value === undefined) return [];
  if (segments.length === 0) return [{ pointer: at, value }];
  const [head = "", ...rest] = segments;
  const children: [string, JsonValue][] = Array.isArray(value)
    ? (value as readonly JsonValue[]).map((v, i) => [String(i), v])
    : isJsonObject(value)
      ? Object.entries(value)
      : [];
  const segment = head.replace(/~1/g, "/").replace(/~0/g, "~");
  return children
    .filter(([key]) => head === "*" || key === segment)
    .flatMap(([key, child]) => valuesAt(child, rest, `${at}/${escapePointerSegment(key)}`));
}
