import type { z } from "zod";
import type { Problem } from "../core/errors.js";
import type { JsonValue } from "../core/json.js";
import { toPointer } from "../core/json.js";
import type { Origin } from "../core/objects.js";
import { locate, locateKey } from "../core/objects.js";
import { article, describeType, explainSchemaProblems } from "./explain-problems.js";

/**
 * Checks a value against a zod schema and returns one problem per issue, each
 * naming the field (as a JSON pointer under `base`) and its line in the file.
 * Unknown fields get a "did you mean" hint; wrong types say what was found.
 */
export function schemaProblems(schema: z.ZodType, value: unknown, origin: Origin, base = ""): Problem[] {
  // reportInput keeps the offending value on each issue, so a wrong type is not mistaken for a missing field.
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return [];
  const relative: Problem[] = [];
  // Unknown fields are reported at their key: the value may be far off (a block below) or beside it.
  const unknownFields = new Set<string>();
  for (const issue of result.error.issues) {
    const path = issue.path.map((p) => (typeof p === "symbol" ? String(p) : p));
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const field = toPointer([...path, key]);
        unknownFields.add(field);
        relative.push({ severity: "error", message: `unknown field ${JSON.stringify(key)}`, field });
      }
      continue;
    }
    relative.push({ severity: "error", message: describeIssue(issue), field: toPointer(path) });
  }
  return explainSchemaProblems(relative, schema, value as JsonValue).map((p) => {
    const field = base + (p.field ?? "");
    return { ...p, field, location: unknownFields.has(p.field ?? "") ? locateKey(origin, field) : locate(origin, field) };
  });
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === "invalid_type") {
    if (issue.input === undefined) return `required field is missing (expected ${issue.expected})`;
    return `must be ${article(issue.expected)}, got ${describeType(issue.input)}`;
  }
  return issue.message.charAt(0).toLowerCase() + issue.message.slice(1);
}
