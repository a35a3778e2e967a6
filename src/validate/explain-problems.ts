import { z } from "zod";
import type { Problem } from "../core/errors.js";
import type { JsonValue } from "../core/json.js";
import { isJsonObject } from "../core/json.js";

/**
 * Makes schema problems more useful: `unknown field` gets "did you mean"
 * (`syncPolicy.prun` is a typo of `prune`), and a field reported missing
 * that is present says what it holds instead.
 */
export function explainSchemaProblems(problems: readonly Problem[], schema: z.ZodType, value: JsonValue): Problem[] {
  return problems.map((problem) => {
    if (problem.field === undefined) return problem;
    const segments = problem.field.split("/").slice(1).map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
    const missing = /^required field is missing \(expected (\w+)\)$/.exec(problem.message);
    if (missing) {
      const present = valueAt(value, segments);
      return present === undefined ? problem : { ...problem, message: `must be ${article(missing[1] ?? "")}, got ${describeType(present)}` };
    }
    const unknown = /^unknown field "(.*)"$/.exec(problem.message);
    if (!unknown) return problem;
    const known = knownKeys(schema, segments.slice(0, -1));
    if (!known || known.length === 0) return problem;
    const closest = closestName(unknown[1] ?? "", known);
    const hint = closest ? `did you mean "${closest}"?` : `expected one of: ${known.join(", ")}`;
    return { ...problem, message: `${problem.message} (${hint})` };
  });
}

function valueAt(value: JsonValue | undefined, segments: readonly string[]): JsonValue | undefined {
  let current = value;
  for (const segment of segments) {
    if (Array.isArray(current)) current = (current as readonly JsonValue[])[Number(segment)];
    else if (isJsonObject(current)) current = Object.hasOwn(current, segment) ? current[segment] : undefined;
    else return undefined;
  }
  return current;
}

/** `a string`, `a list`, `a mapping`, `null`: the type of a value, as problems name it. */
export function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return typeof value === "object" ? "a mapping" : article(typeof value);
}

/** A type name with its article: `a string`, `an integer`; object and array read as mapping and list. */
export function article(type: string): string {
  if (type === "object") return "a mapping";
  if (type === "array") return "a list";
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** The keys an object schema allows at a path, looking through optional, default and array wrappers. */
export function knownKeys(schema: z.ZodType, segments: readonly string[]): string[] | undefined {
  let current: unknown = schema;
  for (let i = 0; ; i++) {
    current = unwrap(current);
    if (i === segments.length) return current instanceof z.ZodObject ? Object.keys(current.shape) : undefined;
    const segment = segments[i] ?? "";
    if (current instanceof z.ZodObject) current = (current.shape as Record<string, unknown>)[segment];
    else if (current instanceof z.ZodArray && /^\d+$/.test(segment)) current = current.element;
    else if (current instanceof z.ZodRecord) current = current.valueType;
    else return undefined;
  }
}

function unwrap(schema: unknown): unknown {
  let current = schema;
  while (current instanceof z.ZodOptional || current instanceof z.ZodDefault || current instanceof z.ZodNullable || current instanceof z.ZodPrefault) {
    current = current.unwrap();
  }
  if (current instanceof z.ZodPipe) return unwrap(current.in);
  return current;
}

/** The known name closest to a typo, when it is close enough to be a typo (ignoring case). */
export function closestName(typo: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(typo.toLowerCase(), name.toLowerCase());
    if (!best || distance < best.distance) best = { name, distance };
  }
  const allowed = Math.max(1, Math.floor(typo.length / 3));
  return best && best.distance <= allowed ? best.name : undefined;
}

/** Edits (insert, delete, replace, swap two neighbours) from a to b: `prot` is one swap from `port`. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const up = rows[i - 1] ?? [];
      let best = Math.min((up[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (up[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, (rows[i - 2]?.[j - 2] ?? 0) + 1);
      row[j] = best;
    }
    rows.push(row);
  }
  return rows[a.length]?.[b.length] ?? 0;
}
