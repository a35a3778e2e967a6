import type { CelValue } from "@bufbuild/cel";
import { celEnv, celList, celMap, isCelError, parse, plan } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import type { Health, HealthStatus } from "../../../core/health.js";
import type { JsonObject } from "../../../core/json.js";
import type { Condition } from "./fields.js";
import { awaitingObservation, generationPending, objectAt, objectsAt, stringAt } from "./fields.js";

/** `group` and `kind` of the objects a rule applies to; `*` in either matches any run of characters. */
export interface KindMatch {
  /** The API group, `""` for the core group (`v1`). */
  readonly group: string;
  readonly kind: string;
}

/** The expressions of a health rule, in CEL, as a HealthRule document or a built-in rule states them. */
export interface HealthRuleSpec {
  readonly name: string;
  readonly match: readonly KindMatch[];
  readonly suspended?: string;
  readonly degraded: string;
  readonly progressing: string;
  readonly healthy: string;
  /** A string expression; `health` holds the status decided. */
  readonly message?: string;
}

/** The expression fields, in the order they are tried. */
export const RULE_EXPRESSIONS = ["suspended", "degraded", "progressing", "healthy", "message"] as const;
export type RuleExpression = (typeof RULE_EXPRESSIONS)[number];

/** Health with the rule that decided it (`ferry health` shows it). */
export interface HealthVerdict {
  readonly health: Health;
  readonly rule: string;
}

/** A rule ready to run: CEL compiled once, or a built-in function for the core kinds. */
export interface HealthRule {
  readonly name: string;
  readonly match: readonly KindMatch[];
  /** Where the rule is written: `built-in`, or `file:line` of a HealthRule document. */
  readonly source: string;
  assess(object: JsonObject): Health;
}

/** A CEL compile error of one expression. */
export interface RuleCompileError {
  readonly field: RuleExpression;
  readonly message: string;
}

type Program = (bindings: Record<string, unknown>) => CelValue | Error;

// One environment for every rule: the CEL standard library and the string extensions (`lowerAscii`, `split`, ...).
const ENV = celEnv({ funcs: strings });

/** Compiles one CEL expression, or says why it does not parse. */
function compileExpression(source: string): Program | string {
  try {
    const run = plan(ENV, parse(source));
    return (bindings) => run(bindings as never) as CelValue | Error;
  } catch (error) {
    return (error as Error).message;
  }
}

/** `Kind` patterns as regular expressions, anchored; `*` matches anything. */
export function matchPattern(pattern: string): RegExp {
  return new RegExp(`^${pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
}

/** True when the match entry applies to that group and kind. */
export function matchesKind(match: KindMatch, group: string, kind: string): boolean {
  return matchPattern(match.group).test(group) && matchPattern(match.kind).test(kind);
}

/**
 * The conditions of an object by type, for `conditions.Ready.status` in
 * expressions; reason and message default to "", and a status is kept as
 * written (the Prometheus Operator writes `Degraded`).
 */
export function conditionMap(object: JsonObject): Record<string, Condition> {
  const out: Record<string, Condition> = {};
  for (const entry of objectsAt(object, "status.conditions")) {
    const type = stringAt(entry, "type");
    const status = stringAt(entry, "status");
    if (type === undefined || status === undefined || type in out) continue;
    out[type] = { type, status: status as Condition["status"], reason: stringAt(entry, "reason") ?? "", message: stringAt(entry, "message") ?? "" };
  }
  return out;
}

const EMPTY: JsonObject = {};

/**
 * A JSON value as CEL maps and lists. CEL copies a plain object's entries
 * each time an expression reads it; the status and conditions, which rules
 * read most, are converted once per object instead.
 */
function toCelValue(value: unknown): unknown {
  if (Array.isArray(value)) return celList(value.map(toCelValue) as never[]);
  if (value !== null && typeof value === "object") {
    const entries = new Map<string, unknown>();
    for (const key in value) entries.set(key, toCelValue((value as Record<string, unknown>)[key]));
    return celMap(entries as never);
  }
  return value;
}

/** The top level of a mapping as a CEL map; deeper levels are converted when an expression reaches them. */
function shallowCelMap(value: JsonObject): unknown {
  return celMap(new Map(Object.entries(value)) as never);
}

/**
 * Compiles a rule: each expression is parsed and planned once. Returns the
 * rule, or every expression that does not compile. Running it binds `object`
 * (the live object), `metadata`, `spec` and `status` (each `{}` when absent)
 * and `conditions` (its status conditions by type); a boolean expression
 * that errors or yields a non-boolean makes the health Unknown with the
 * error, never an exception.
 */
export function compileHealthRule(spec: HealthRuleSpec, source: string): { rule: HealthRule } | { errors: RuleCompileError[] } {
  const programs = new Map<RuleExpression, Program>();
  const errors: RuleCompileError[] = [];
  for (const field of RULE_EXPRESSIONS) {
    const text = spec[field];
    if (text === undefined) continue;
    const compiled = compileExpression(text);
    if (typeof compiled === "string") errors.push({ field, message: compiled });
    else programs.set(field, compiled);
  }
  if (errors.length > 0) return { errors };
  const assess = (object: JsonObject): Health => {
    const conditions = conditionMap(object);
    const bindings: Record<string, unknown> = {
      object: shallowCelMap(object),
      metadata: shallowCelMap(objectAt(object, "metadata") ?? EMPTY),
      spec: shallowCelMap(objectAt(object, "spec") ?? EMPTY),
      status: toCelValue(objectAt(object, "status") ?? EMPTY),
      conditions: toCelValue(conditions),
    };
    const test = (field: Exclude<RuleExpression, "message">): boolean | string => {
      const program = programs.get(field);
      if (!program) return false;
      const value = program(bindings);
      if (isCelError(value) || value instanceof Error) return `${field}: ${value.message}`;
      if (typeof value !== "boolean") return `${field}: expected a boolean, got ${typeof value}`;
      return value;
    };
    const decide = (status: HealthStatus, fallback: string): Health => {
      const program = programs.get("message");
      if (!program) return { status, message: fallback };
      const value = program({ ...bindings, health: status });
      if (typeof value === "string") return { status, message: value };
      const why = isCelError(value) || value instanceof Error ? value.message : `expected a string, got ${typeof value}`;
      return { status, message: `${fallback} (message: ${why})` };
    };
    const suspended = test("suspended");
    if (typeof suspended === "string") return { status: "Unknown", message: `rule ${spec.name}: ${suspended}` };
    if (suspended) return decide("Suspended", defaultMessage("Suspended", conditions));
    if (generationPending(object)) return awaitingObservation(object);
    for (const [field, status] of [
      ["degraded", "Degraded"],
      ["progressing", "Progressing"],
      ["healthy", "Healthy"],
    ] as const) {
      const holds = test(field);
      if (typeof holds === "string") return { status: "Unknown", message: `rule ${spec.name}: ${holds}` };
      if (holds) return decide(status, defaultMessage(status, conditions));
    }
    return decide("Progressing", "waiting: none of the rule's expressions holds yet");
  };
  return { rule: { name: spec.name, match: spec.match, source, assess } };
}

/** Without a message expression: the status, with the Stalled or Ready condition's reason and message when there is one. */
function defaultMessage(status: HealthStatus, conditions: Record<string, Condition>): string {
  const condition = (status === "Degraded" && conditions["Stalled"]?.status === "True" ? conditions["Stalled"] : undefined) ?? conditions["Ready"];
  const word = status.toLowerCase();
  if (!condition) return word;
  const detail = [condition.reason, condition.message].filter((s) => s !== "").join(": ");
  return detail ? `${word}: ${detail}` : word;
}
