import type { z } from "zod";
import type { Problem } from "../core/errors.js";
import { toPointer } from "../core/json.js";
import type { Origin } from "../core/objects.js";
import { locate } from "../core/objects.js";

/**
 * Checks a value against a zod schema and returns one problem per issue, each
 * naming the field (as a JSON pointer under `base`) and its line in the file.
 */
export function schemaProblems(schema: z.ZodType, value: unknown, origin: Origin, base = ""): Problem[] {
  const result = schema.safeParse(value);
  if (result.success) return [];
  const problems: Problem[] = [];
  for (const issue of result.error.issues) {
    const path = issue.path.map((p) => (typeof p === "symbol" ? String(p) : p));
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const field = base + toPointer([...path, key]);
        problems.push({ severity: "error", message: `unknown field ${JSON.stringify(key)}`, field, location: locate(origin, field) });
      }
      continue;
    }
    const field = base + toPointer(path);
    problems.push({ severity: "error", message: describeIssue(issue), field, location: locate(origin, field) });
  }
  return problems;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === "invalid_type" && issue.input === undefined) return `required field is missing (expected ${issue.expected})`;
  return issue.message.charAt(0).toLowerCase() + issue.message.slice(1);
}
