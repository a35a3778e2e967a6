import { z } from "zod";
import type { Problem } from "../core/errors.js";
import type { Origin, RenderedObject } from "../core/objects.js";
import { isObjectName, NAME_RULE, quoteForMessage } from "../render/names.js";
import { schemaProblems } from "../validate/schema-problems.js";
import { FERRY_API_VERSION } from "./application.js";

/** Kind of the document that holds rules every object of the repository must follow (`ferry validate`). */
export const POLICY_KIND = "Policy";

const ruleNameSchema = z.string().refine(isObjectName, { error: (issue) => `${quoteForMessage(issue.input)} is not a valid rule name: use ${NAME_RULE}` });

const patternSchema = z.string().superRefine((pattern, ctx) => {
  try {
    new RegExp(pattern, "u");
  } catch (error) {
    ctx.addIssue({ code: "custom", message: `not a valid regular expression: ${(error as Error).message.toLowerCase()}` });
  }
});

const pointerSchema = z.string().regex(/^(\/[^/]*)+$/, 'must be a JSON pointer such as /spec/command ("*" matches any key or list item)');

/** One rule as users write it: a match, a severity, and exactly one check. */
export const policyRuleSchema = z
  .strictObject({
    name: ruleNameSchema.meta({ description: "Names the rule in every problem it reports." }),
    severity: z.enum(["error", "warning"]).default("error").meta({ description: "error fails `ferry validate`; warning is reported only." }),
    match: z
      .strictObject({
        apiVersion: z.string().min(1).optional(),
        kind: z.string().min(1).optional(),
      })
      .optional()
      .meta({ description: "Objects the rule applies to; default: every object." }),
    message: z.string().min(1).optional().meta({ description: "Said instead of the default message when the rule is broken." }),
    requireLabels: z.array(z.string().min(1)).min(1).optional().meta({ description: "Labels every matched object must carry." }),
    forbid: z
      .strictObject({
        pointer: pointerSchema,
        pattern: patternSchema.optional().meta({ description: "A regular expression; without it, any value there is forbidden." }),
      })
      .optional()
      .meta({ description: "A value the field at pointer must not have." }),
    allowPathPrefixes: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .meta({ description: "Host File paths (spec.path) must start with one of these." }),
  })
  .superRefine((rule, ctx) => {
    const checks = [rule.requireLabels, rule.forbid, rule.allowPathPrefixes].filter((c) => c !== undefined).length;
    if (checks !== 1) ctx.addIssue({ code: "custom", message: "exactly one of requireLabels, forbid or allowPathPrefixes is required", path: [] });
  });

/** A whole Policy document. */
export const policySchema = z.strictObject({
  apiVersion: z.literal(FERRY_API_VERSION),
  kind: z.literal(POLICY_KIND),
  metadata: z.strictObject({
    name: ruleNameSchema,
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
  spec: z.strictObject({ rules: z.array(policyRuleSchema).min(1) }),
});

/** One normalized rule, with where it is written. */
export type PolicyRule = z.output<typeof policyRuleSchema> & { readonly policy: string; readonly origin: Origin; readonly index: number };

/** Checks one Policy document; its rules when valid, else the problems with file, line and field. */
export function normalizePolicy(object: RenderedObject): { rules: PolicyRule[]; problems: Problem[] } {
  const problems = schemaProblems(policySchema, object.manifest, object.origin);
  const parsed = policySchema.safeParse(object.manifest);
  if (problems.length > 0 || !parsed.success) return { rules: [], problems };
  const policy = parsed.data.metadata.name;
  return { rules: parsed.data.spec.rules.map((rule, index) => ({ ...rule, policy, origin: object.origin, index })), problems: [] };
}
