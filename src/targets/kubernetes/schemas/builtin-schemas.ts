import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { OpenApiSchema } from "./openapi-schema.js";

/** Kubernetes' own definitions, by OpenAPI name, and the top-level kinds among them. */
export interface BuiltinSchemas {
  /** `io.k8s.api.apps.v1.Deployment` -> its schema. */
  readonly definitions: ReadonlyMap<string, OpenApiSchema>;
  /** `apps/v1 Deployment` -> `io.k8s.api.apps.v1.Deployment`. */
  readonly kinds: ReadonlyMap<string, string>;
}

/** The key of a kind in `BuiltinSchemas.kinds`. */
export function kindKey(apiVersion: string, kind: string): string {
  return `${apiVersion} ${kind}`;
}

let loaded: BuiltinSchemas | undefined;

/**
 * The OpenAPI definitions of Kubernetes shipped by the `kubernetes-models`
 * package (and `@kubernetes-models/apimachinery` for ObjectMeta and the
 * other shared types). Each generated module of their `_schemas/` folders
 * holds one definition as a JSON literal and registers it under its name;
 * both are read from the module text, once per process, so the schemas are
 * the package's own data and nothing of it runs. The package version is
 * pinned: a layout it does not recognize throws, naming the file.
 */
export function builtinSchemas(): BuiltinSchemas {
  loaded ??= loadBuiltinSchemas();
  return loaded;
}

function loadBuiltinSchemas(): BuiltinSchemas {
  const require = createRequire(import.meta.url);
  const modelsEntry = require.resolve("kubernetes-models");
  const machineryEntry = createRequire(modelsEntry).resolve("@kubernetes-models/apimachinery");
  const definitions = new Map<string, OpenApiSchema>();
  for (const entry of [modelsEntry, machineryEntry]) {
    const dir = path.join(path.dirname(entry), "_schemas");
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".js")).sort()) {
      const { name, schema } = readDefinition(path.join(dir, file));
      definitions.set(name, schema);
    }
  }
  correctSchemaProps(definitions);
  const kinds = new Map<string, string>();
  for (const [name, schema] of definitions) {
    const apiVersion = schema.properties?.["apiVersion"]?.enum?.[0];
    const kind = schema.properties?.["kind"]?.enum?.[0];
    if (typeof apiVersion === "string" && typeof kind === "string") kinds.set(kindKey(apiVersion, kind), name);
  }
  return { definitions, kinds };
}

const SCHEMA_LITERAL = /\nconst schema = ([\s\S]*?);\nfunction addSchema\(\)/;
const REGISTER = /register\)\("([^"]+)", schema\)/;

function readDefinition(file: string): { name: string; schema: OpenApiSchema } {
  const text = readFileSync(file, "utf8");
  const literal = SCHEMA_LITERAL.exec(text)?.[1];
  const name = REGISTER.exec(text)?.[1];
  if (literal === undefined || name === undefined) throw new Error(`cannot read the Kubernetes schema in ${file}: the kubernetes-models package has an unexpected layout`);
  return { name, schema: JSON.parse(literal) as OpenApiSchema };
}

const EXTENSIONS_V1 = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1";
const EXTENSIONS_V1BETA1 = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1beta1";

/**
 * The generated definitions of a CRD's schema (JSONSchemaProps) lose what
 * Kubernetes' OpenAPI cannot express: the `x-kubernetes-*` fields, and the
 * "schema or boolean" / "schema or list" unions, which come out as plain
 * objects. Put them back as the API server reads them, so a valid CRD passes.
 */
function correctSchemaProps(definitions: Map<string, OpenApiSchema>): void {
  for (const prefix of [EXTENSIONS_V1, EXTENSIONS_V1BETA1]) {
    const props = `${prefix}.JSONSchemaProps`;
    const ref = { $ref: `${props}#` };
    definitions.set(`${prefix}.JSONSchemaPropsOrBool`, { oneOf: [ref, { type: "boolean" }] });
    definitions.set(`${prefix}.JSONSchemaPropsOrArray`, { oneOf: [ref, { type: "array", items: ref }] });
    definitions.set(`${prefix}.JSONSchemaPropsOrStringArray`, { oneOf: [ref, { type: "array", items: { type: "string" } }] });
    const schema = definitions.get(props);
    if (!schema) continue;
    const rule = definitions.has(`${prefix}.ValidationRule`) ? { $ref: `${prefix}.ValidationRule#` } : { type: "object" };
    definitions.set(props, {
      ...schema,
      properties: {
        ...schema.properties,
        "x-kubernetes-embedded-resource": { type: "boolean" },
        "x-kubernetes-int-or-string": { type: "boolean" },
        "x-kubernetes-list-map-keys": { type: "array", items: { type: "string" } },
        "x-kubernetes-list-type": { type: "string", enum: ["atomic", "set", "map"] },
        "x-kubernetes-map-type": { type: "string", enum: ["granular", "atomic"] },
        "x-kubernetes-preserve-unknown-fields": { type: "boolean" },
        "x-kubernetes-validations": { type: "array", items: rule },
      },
    });
  }
}
