import { z } from "zod";
import type { Problem } from "../core/errors.js";
import { problemAt } from "../core/errors.js";
import { formatLocation } from "../core/location.js";
import type { RenderedObject } from "../core/objects.js";
import { locate } from "../core/objects.js";
import { isObjectName, NAME_RULE, quoteForMessage } from "../render/names.js";
import type { HealthRule } from "../targets/kubernetes/health/rule.js";
import { compileHealthRule } from "../targets/kubernetes/health/rule.js";
import { schemaProblems } from "../validate/schema-problems.js";
import { FERRY_API_VERSION } from "./application.js";

/** Kind of the document that teaches Ferry the health of a Kubernetes kind, in CEL. */
export const HEALTH_RULE_KIND = "HealthRule";

const expression = (description: string): z.ZodString => z.string().min(1).meta({ description });
const pattern = /^[A-Za-z0-9.*-]*$/;

/** The spec of a HealthRule: the kinds it matches and its CEL expressions. */
export const healthRuleSpecSchema = z.strictObject({
    match: z
      .array(
        z.strictObject({
          group: z.string().regex(pattern, 'letters, digits, ".", "-" and "*"').meta({ description: 'API group ("" for the core group); "*" matches any characters.' }),
          kind: z.string().min(1).regex(pattern, 'letters, digits, ".", "-" and "*"').meta({ description: 'Kind; "*" matches any characters.' }),
        }),
      )
      .min(1)
      .meta({ description: "The kinds the rule decides the health of; it comes before any built-in rule for them." }),
    suspended: expression("CEL, true when the object is deliberately paused. Tried first.").optional(),
    degraded: expression("CEL, true when the object failed and needs a person."),
    progressing: expression("CEL, true while the object is still working towards its spec."),
    healthy: expression("CEL, true when the object does what its spec asks."),
    message: expression("CEL string said with the status; `health` holds the status decided.").optional(),
});

/** A whole HealthRule document. */
export const healthRuleSchema = z.strictObject({
  apiVersion: z.literal(FERRY_API_VERSION),
  kind: z.literal(HEALTH_RULE_KIND),
  metadata: z.strictObject({
    name: z.string().refine(isObjectName, { error: (issue) => `${quoteForMessage(issue.input)} is not a valid rule name: use ${NAME_RULE}` }),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
  spec: healthRuleSpecSchema,
});

/** One user rule, compiled, with where it is written. */
export interface LoadedHealthRule {
  readonly rule: HealthRule;
  readonly object: RenderedObject;
}

/**
 * Checks one HealthRule document and compiles its expressions with CEL; the
 * rule when valid, else the problems with file, line and field (a CEL parse
 * error names the expression that holds it).
 */
export function normalizeHealthRule(object: RenderedObject): { rule?: LoadedHealthRule; problems: Problem[] } {
  const problems = schemaProblems(healthRuleSchema, object.manifest, object.origin);
  const parsed = healthRuleSchema.safeParse(object.manifest);
  if (problems.length > 0 || !parsed.success) return { problems };
  const { metadata, spec } = parsed.data;
  const where = locate(object.origin, "");
  const compiled = compileHealthRule({ name: metadata.name, ...spec }, `${where.file}:${where.line}`);
  if ("errors" in compiled) {
    return {
      problems: compiled.errors.map((e) => {
        const field = `/spec/${e.field}`;
        const message = e.message.replace(/^<input>:(\d+):(\d+): /, (_, line: string, column: string) => (line === "1" ? `column ${column}: ` : `line ${line} column ${column}: `));
        return problemAt(`health rule ${JSON.stringify(metadata.name)}: spec.${e.field} is not valid CEL: ${message}`, locate(object.origin, field), field);
      }),
    };
  }
  return { rule: { rule: compiled.rule, object }, problems: [] };
}

/**
 * Two rules of one repository for the same `group/kind` (as written, wildcards
 * included) would make the health of that kind depend on file order: each
 * second one is a problem naming the first.
 */
export function duplicateHealthRuleProblems(rules: readonly LoadedHealthRule[]): Problem[] {
  const seen = new Map<string, LoadedHealthRule>();
  const problems: Problem[] = [];
  const where = (r: LoadedHealthRule): string => `${r.object.origin.file}\u0000${String(r.object.origin.line).padStart(9, "0")}`;
  // In the order they are written, so the second one written is the one reported.
  for (const loaded of [...rules].sort((a, b) => (where(a) < where(b) ? -1 : where(a) > where(b) ? 1 : 0))) {
    loaded.rule.match.forEach((m, index) => {
      const key = `${m.group}/${m.kind}`;
      const first = seen.get(key);
      if (!first) {
        seen.set(key, loaded);
        return;
      }
      if (first === loaded) return;
      const field = `/spec/match/${index}`;
      const at = formatLocation(locate(first.object.origin, "/metadata/name"));
      problems.push(problemAt(`health rules ${JSON.stringify(first.rule.name)} (at ${at}) and ${JSON.stringify(loaded.rule.name)} both match ${key || "/"}: keep one`, locate(loaded.object.origin, field), field));
    });
  }
  return problems;
}
