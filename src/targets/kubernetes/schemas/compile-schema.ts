import type { JsonObject, JsonValue } from "../../../core/json.js";
import { escapePointerSegment, isJsonObject } from "../../../core/json.js";
import { article, closestName, describeType } from "../../../validate/explain-problems.js";
import type { OpenApiSchema } from "./openapi-schema.js";

/** One thing wrong with a value: the JSON pointer of the field and what is wrong, lowercase. */
export interface SchemaIssue {
  readonly pointer: string;
  readonly message: string;
  /** The field at pointer should not be there: reported at its key. */
  readonly unknown?: true;
}

/** A compiled schema: checks a value found at `pointer` and appends what is wrong to `out`. */
export type SchemaCheck = (value: JsonValue, pointer: string, out: SchemaIssue[]) => void;

/** How to read schemas that leave something open. */
export interface CompileOptions {
  /** Finds a definition named by `$ref` (without the trailing `#`). */
  readonly resolve: (ref: string) => OpenApiSchema | undefined;
  /**
   * Structural schemas (CRDs): an object schema without `properties`,
   * `additionalProperties` or `x-kubernetes-preserve-unknown-fields` allows
   * no fields, as the API server prunes them. Otherwise (Kubernetes' own
   * definitions) such an object is free-form (`RawExtension`).
   */
  readonly structural: boolean;
}

const INT32 = 2 ** 31;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const QUANTITY = /^[+-]?(?:\d+|\d+\.\d*|\.\d+)(?:[KMGTPE]i|[mkMGTPE]|[eE][+-]?\d+)?$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;
/** Fields every embedded object (and every top-level object) has without declaring them. */
const OBJECT_FIELDS = new Set(["apiVersion", "kind", "metadata"]);

/**
 * Turns schemas into checking functions once, so validating many objects
 * of a kind walks closures instead of schema documents. Recursive
 * definitions (JSONSchemaProps) compile to a cycle of closures.
 */
export class SchemaCompiler {
  readonly #options: CompileOptions;
  readonly #compiled = new WeakMap<OpenApiSchema, SchemaCheck>();

  constructor(options: CompileOptions) {
    this.#options = options;
  }

  /** The check of a schema, compiled on first use. */
  compile(schema: OpenApiSchema): SchemaCheck {
    const found = this.#compiled.get(schema);
    if (found) return found;
    let implementation: SchemaCheck = () => undefined;
    const check: SchemaCheck = (value, pointer, out) => implementation(value, pointer, out);
    this.#compiled.set(schema, check);
    implementation = this.#build(schema);
    return implementation;
  }

  #build(schema: OpenApiSchema): SchemaCheck {
    if (schema.$ref !== undefined) return this.#reference(schema.$ref);
    if (schema["x-kubernetes-int-or-string"]) return intOrString;
    const parts: SchemaCheck[] = [];
    const alternatives = schema.oneOf ?? schema.anyOf;
    if (alternatives) parts.push(this.#alternatives(alternatives));
    for (const each of schema.allOf ?? []) parts.push(this.compile(each));
    const own = this.#own(schema);
    if (own) parts.push(own);
    if (parts.length === 1 && parts[0]) return parts[0];
    return (value, pointer, out) => {
      for (const part of parts) part(value, pointer, out);
    };
  }

  #reference(ref: string): SchemaCheck {
    const name = ref.replace(/#$/, "");
    let target: SchemaCheck | undefined;
    return (value, pointer, out) => {
      if (!target) {
        const schema = this.#options.resolve(name);
        target = schema ? this.compile(schema) : () => undefined;
      }
      target(value, pointer, out);
    };
  }

  /** oneOf/anyOf: passes when one alternative passes; otherwise reports the alternative of the value's type. */
  #alternatives(schemas: readonly OpenApiSchema[]): SchemaCheck {
    // `{type: "null"}` only says the field is optional; null is accepted everywhere.
    const options = schemas.filter((s) => s.type !== "null");
    const first = options[0];
    if (options.length === 1 && first) return this.compile(first);
    const checks = options.map((s) => ({ schema: s, check: this.compile(s) }));
    return (value, pointer, out) => {
      const failed: { schema: OpenApiSchema; issues: SchemaIssue[] }[] = [];
      for (const { schema, check } of checks) {
        const issues: SchemaIssue[] = [];
        check(value, pointer, issues);
        if (issues.length === 0) return;
        failed.push({ schema, issues });
      }
      const sameType = failed.filter((f) => f.schema.type === undefined || typeMatches(f.schema.type, value));
      const only = sameType.length === 1 ? sameType[0] : undefined;
      if (only) out.push(...only.issues);
      else out.push({ pointer, message: `must be ${options.map((s) => article(s.type ?? "value")).join(" or ")}, got ${describeType(value)}` });
    };
  }

  /** type, enum, format, bounds, items and properties of one schema, or undefined when it sets none. */
  #own(schema: OpenApiSchema): SchemaCheck | undefined {
    const { type } = schema;
    const enumeration = schema.enum;
    const format = schema.format;
    const pattern = compilePattern(schema.pattern);
    const items = schema.items ? this.compile(schema.items) : undefined;
    const object = this.#objectCheck(schema);
    const bounded = [schema.minimum, schema.maximum, schema.minLength, schema.maxLength, schema.minItems, schema.maxItems].some((b) => b !== undefined);
    if (!type && !enumeration && !format && !pattern && !items && !object && !bounded) return undefined;
    return (value, pointer, out) => {
      if (value === null) return;
      if (type && !typeMatches(type, value)) {
        out.push({ pointer, message: `must be ${article(type)}, got ${describeType(value)}` });
        return;
      }
      if (enumeration && !enumeration.includes(value)) {
        out.push({ pointer, message: `must be one of ${enumeration.map((e) => JSON.stringify(e)).join(", ")}, got ${JSON.stringify(value)}` });
        return;
      }
      if (typeof value === "string") {
        const problem = formatProblem(format, value) ?? lengthProblem(schema, value) ?? (pattern && !pattern.test(value) ? `must match ${schema.pattern ?? ""}` : undefined);
        if (problem) out.push({ pointer, message: problem });
      } else if (typeof value === "number") {
        const problem = numberProblem(schema, value);
        if (problem) out.push({ pointer, message: problem });
      } else if (Array.isArray(value)) {
        const list = value as readonly JsonValue[];
        if (schema.minItems !== undefined && list.length < schema.minItems) out.push({ pointer, message: `must have at least ${schema.minItems} items, has ${list.length}` });
        if (schema.maxItems !== undefined && list.length > schema.maxItems) out.push({ pointer, message: `must have at most ${schema.maxItems} items, has ${list.length}` });
        if (items) list.forEach((item, i) => items(item, `${pointer}/${i}`, out));
      } else if (object && isJsonObject(value)) object(value, pointer, out);
    };
  }

  #objectCheck(schema: OpenApiSchema): ((value: JsonObject, pointer: string, out: SchemaIssue[]) => void) | undefined {
    const properties = schema.properties;
    const required = schema.required ?? [];
    const additional = schema.additionalProperties;
    const preserve = schema["x-kubernetes-preserve-unknown-fields"] === true;
    const embedded = schema["x-kubernetes-embedded-resource"] === true;
    if (!properties && additional === undefined && required.length === 0 && (preserve || !this.#options.structural || schema.type !== "object")) return undefined;
    const known = new Map(Object.entries(properties ?? {}).map(([name, s]) => [name, this.compile(s)]));
    const names = [...known.keys()];
    const extra = typeof additional === "object" ? this.compile(additional) : undefined;
    const free = additional === true || preserve || (!properties && additional === undefined && !this.#options.structural);
    return (value, pointer, out) => {
      for (const name of required) {
        if (!Object.hasOwn(value, name)) out.push({ pointer: `${pointer}/${escapePointerSegment(name)}`, message: "required field is missing" });
      }
      for (const [name, item] of Object.entries(value)) {
        const at = `${pointer}/${escapePointerSegment(name)}`;
        const check = known.get(name) ?? extra;
        if (check) check(item, at, out);
        else if (!free && !(embedded && OBJECT_FIELDS.has(name))) out.push({ pointer: at, message: unknownField(name, names), unknown: true });
      }
    };
  }
}

/** `unknown field "replicass" (did you mean "replicas"?)`. */
export function unknownField(name: string, known: readonly string[]): string {
  if (known.length === 0) return `unknown field ${JSON.stringify(name)} (no fields are allowed here)`;
  const closest = closestName(name, known);
  const hint = closest ? `did you mean ${JSON.stringify(closest)}?` : `expected one of: ${[...known].sort().join(", ")}`;
  return `unknown field ${JSON.stringify(name)} (${hint})`;
}

const intOrString: SchemaCheck = (value, pointer, out) => {
  if (value === null || typeof value === "string" || (typeof value === "number" && Number.isInteger(value))) return;
  out.push({ pointer, message: `must be an integer or a string, got ${describeType(value)}` });
};

function typeMatches(type: string, value: JsonValue): boolean {
  switch (type) {
    case "object":
      return isJsonObject(value);
    case "array":
      return Array.isArray(value);
    case "string":
      return typeof value === "string";
    case "integer":
      return typeof value === "number" && Number.isInteger(value);
    case "number":
      return typeof value === "number";
    case "boolean":
      return typeof value === "boolean";
    case "null":
      return value === null;
    default:
      return true;
  }
}

function formatProblem(format: string | undefined, value: string): string | undefined {
  switch (format) {
    case "byte":
      return BASE64.test(value.replace(/\s+/g, "")) ? undefined : "must be base64-encoded (use stringData for plain text)";
    case "quantity":
      return QUANTITY.test(value) ? undefined : `${JSON.stringify(value)} is not a quantity such as "500m", "1.5" or "128Mi"`;
    case "date-time":
      return DATE_TIME.test(value) ? undefined : `${JSON.stringify(value)} is not a date-time such as "2026-01-31T12:00:00Z"`;
    default:
      return undefined;
  }
}

function lengthProblem(schema: OpenApiSchema, value: string): string | undefined {
  if (schema.minLength !== undefined && value.length < schema.minLength) return `must be at least ${schema.minLength} characters long`;
  if (schema.maxLength !== undefined && value.length > schema.maxLength) return `must be at most ${schema.maxLength} characters long`;
  return undefined;
}

function numberProblem(schema: OpenApiSchema, value: number): string | undefined {
  if (schema.format === "int32" && (value < -INT32 || value >= INT32)) return `${value} does not fit in a 32-bit integer`;
  const { minimum, maximum } = schema;
  if (minimum !== undefined && (schema.exclusiveMinimum ? value <= minimum : value < minimum)) return `must be ${schema.exclusiveMinimum ? "greater than" : "at least"} ${minimum}, got ${value}`;
  if (maximum !== undefined && (schema.exclusiveMaximum ? value >= maximum : value > maximum)) return `must be ${schema.exclusiveMaximum ? "less than" : "at most"} ${maximum}, got ${value}`;
  return undefined;
}

/** Schema patterns are ECMA-262 in practice; one that does not compile is ignored rather than failing every object. */
function compilePattern(pattern: string | undefined): RegExp | undefined {
  if (pattern === undefined) return undefined;
  try {
    return new RegExp(pattern, "u");
  } catch {
    return undefined;
  }
}
