import { displayKey } from "../../../core/ids.js";
import type { JsonObject } from "../../../core/json.js";
import { isJsonObject } from "../../../core/json.js";
import type { RenderedObject } from "../../../core/objects.js";
import type { SchemaCheck } from "./compile-schema.js";
import { SchemaCompiler } from "./compile-schema.js";
import { readOpenApiSchema } from "./openapi-schema.js";

/** A kind defined by a CustomResourceDefinition among the rendered objects. */
export interface CustomKind {
  /** `example.com/v1`. */
  readonly apiVersion: string;
  readonly kind: string;
  /** `CustomResourceDefinition/widgets.example.com`, for messages. */
  readonly definedBy: string;
  /** Checks everything but `apiVersion`, `kind` and `metadata`, which are the same for every object. */
  readonly check: SchemaCheck;
}

const CRD_API_VERSIONS = new Set(["apiextensions.k8s.io/v1", "apiextensions.k8s.io/v1beta1"]);
const OBJECT_FIELDS = ["apiVersion", "kind", "metadata"];

/** True for a CustomResourceDefinition. */
export function isCustomResourceDefinition(object: RenderedObject): boolean {
  return object.manifest.kind === "CustomResourceDefinition" && CRD_API_VERSIONS.has(object.manifest.apiVersion);
}

/**
 * The kinds the CustomResourceDefinitions among `objects` define: one per
 * served version, with its `openAPIV3Schema` compiled as a structural
 * schema (unknown fields are errors unless `x-kubernetes-preserve-unknown-fields`
 * says otherwise). A version without a schema accepts any fields. Pure.
 */
export function customKinds(objects: readonly RenderedObject[]): CustomKind[] {
  const compiler = new SchemaCompiler({ resolve: () => undefined, structural: true });
  const kinds: CustomKind[] = [];
  for (const object of objects) {
    if (!isCustomResourceDefinition(object)) continue;
    const spec = object.manifest["spec"];
    if (!isJsonObject(spec)) continue;
    const group = typeof spec["group"] === "string" ? spec["group"] : undefined;
    const names = spec["names"];
    const kind = isJsonObject(names) && typeof names["kind"] === "string" ? names["kind"] : undefined;
    if (!group || !kind) continue;
    const versions = Array.isArray(spec["versions"]) ? spec["versions"].filter(isJsonObject) : [];
    // v1beta1 CRDs may have one schema for every version, at spec.validation.
    const shared = openApiV3Schema(spec["validation"]);
    for (const version of versions) {
      if (typeof version["name"] !== "string" || version["served"] === false) continue;
      const raw = openApiV3Schema(version["schema"]) ?? shared;
      const root = raw ? readOpenApiSchema(raw) : { "x-kubernetes-preserve-unknown-fields": true, type: "object" };
      // apiVersion, kind and metadata are checked by Kubernetes' own rules, whatever the CRD declares for them.
      const properties = Object.fromEntries(Object.entries(root.properties ?? {}).filter(([name]) => !OBJECT_FIELDS.includes(name)));
      const body = compiler.compile({ ...root, properties, required: (root.required ?? []).filter((r) => !OBJECT_FIELDS.includes(r)) });
      const check: SchemaCheck = (value, pointer, out) => {
        if (!isJsonObject(value)) return body(value, pointer, out);
        const rest: JsonObject = Object.fromEntries(Object.entries(value).filter(([name]) => !OBJECT_FIELDS.includes(name)));
        body(rest, pointer, out);
      };
      kinds.push({ apiVersion: `${group}/${version["name"]}`, kind, definedBy: displayKey(object.key), check });
    }
  }
  return kinds;
}

function openApiV3Schema(holder: unknown): JsonObject | undefined {
  if (!isJsonObject(holder)) return undefined;
  const schema = holder["openAPIV3Schema"];
  return isJsonObject(schema) ? schema : undefined;
}
