import type { JsonObject, JsonValue } from "../../../core/json.js";

/**
 * The part of OpenAPI v3 (JSON Schema) that Kubernetes' own definitions and
 * CustomResourceDefinitions' `openAPIV3Schema` use. Read-only plain data.
 */
export interface OpenApiSchema {
  readonly type?: string;
  readonly format?: string;
  readonly nullable?: boolean;
  readonly properties?: Readonly<Record<string, OpenApiSchema>>;
  readonly required?: readonly string[];
  /** `true` or a schema: the object is a map; its keys are free. */
  readonly additionalProperties?: boolean | OpenApiSchema;
  readonly items?: OpenApiSchema;
  readonly enum?: readonly JsonValue[];
  readonly oneOf?: readonly OpenApiSchema[];
  readonly anyOf?: readonly OpenApiSchema[];
  readonly allOf?: readonly OpenApiSchema[];
  /** `io.k8s.api.apps.v1.DeploymentSpec#`: a definition of the same set. */
  readonly $ref?: string;
  readonly pattern?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: boolean;
  readonly exclusiveMaximum?: boolean;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  /** Fields not in `properties` are kept, not refused (CRDs). */
  readonly "x-kubernetes-preserve-unknown-fields"?: boolean;
  /** The value may be an integer or a string (`port: 80` or `port: http`). */
  readonly "x-kubernetes-int-or-string"?: boolean;
  /** The value is a whole object: `apiVersion`, `kind` and `metadata` are allowed without being declared. */
  readonly "x-kubernetes-embedded-resource"?: boolean;
}

/**
 * Reads a schema written in a repository (a CRD's `openAPIV3Schema`). The
 * keywords the checker understands are kept; anything else is dropped, so a
 * CRD may carry descriptions, defaults and validation rules Ferry ignores.
 */
export function readOpenApiSchema(value: JsonValue | undefined): OpenApiSchema {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return {};
  const v = value as JsonObject;
  const schema: Record<string, unknown> = {};
  for (const key of ["type", "format", "pattern", "$ref"] as const) if (typeof v[key] === "string") schema[key] = v[key];
  for (const key of ["minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems"] as const) if (typeof v[key] === "number") schema[key] = v[key];
  for (const key of ["nullable", "exclusiveMinimum", "exclusiveMaximum", "x-kubernetes-preserve-unknown-fields", "x-kubernetes-int-or-string", "x-kubernetes-embedded-resource"] as const) {
    if (typeof v[key] === "boolean") schema[key] = v[key];
  }
  if (Array.isArray(v["required"])) schema["required"] = (v["required"] as readonly JsonValue[]).filter((r): r is string => typeof r === "string");
  if (Array.isArray(v["enum"])) schema["enum"] = v["enum"];
  const properties = v["properties"];
  if (typeof properties === "object" && properties !== null && !Array.isArray(properties)) {
    schema["properties"] = Object.fromEntries(Object.entries(properties as JsonObject).map(([k, p]) => [k, readOpenApiSchema(p)]));
  }
  const additional = v["additionalProperties"];
  if (typeof additional === "boolean") schema["additionalProperties"] = additional;
  else if (typeof additional === "object" && additional !== null) schema["additionalProperties"] = readOpenApiSchema(additional);
  if (v["items"] !== undefined && !Array.isArray(v["items"])) schema["items"] = readOpenApiSchema(v["items"]);
  for (const key of ["oneOf", "anyOf", "allOf"] as const) {
    if (Array.isArray(v[key])) schema[key] = (v[key] as readonly JsonValue[]).map(readOpenApiSchema);
  }
  return schema as OpenApiSchema;
}
