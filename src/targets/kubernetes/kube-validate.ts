import type { Problem } from "../../core/errors.js";
import { problemAt } from "../../core/errors.js";
import type { RenderedObject } from "../../core/objects.js";
import { locate, locateKey } from "../../core/objects.js";
import type { TargetValidator } from "../target.js";
import { builtinSchemas, kindKey } from "./schemas/builtin-schemas.js";
import type { SchemaCheck, SchemaIssue } from "./schemas/compile-schema.js";
import { SchemaCompiler } from "./schemas/compile-schema.js";
import type { CustomKind } from "./schemas/custom-resources.js";
import { customKinds } from "./schemas/custom-resources.js";

/** The name Applications use for the Kubernetes target. */
export const KUBERNETES_TARGET = "kubernetes";

const OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/** Compiled checks of Kubernetes' own kinds, shared by every validator of the process. */
class BuiltinKinds {
  readonly #compiler: SchemaCompiler;
  readonly #checks = new Map<string, SchemaCheck | undefined>();
  /** `Deployment` -> `apps/v1`, ...: the apiVersions a kind exists in, for hints. */
  readonly #versions = new Map<string, string[]>();
  #metadata: SchemaCheck | undefined;

  constructor() {
    const { definitions, kinds } = builtinSchemas();
    this.#compiler = new SchemaCompiler({ resolve: (ref) => definitions.get(ref), structural: false });
    for (const key of kinds.keys()) {
      const [apiVersion = "", kind = ""] = key.split(" ");
      this.#versions.set(kind, [...(this.#versions.get(kind) ?? []), apiVersion]);
    }
  }

  has(apiVersion: string, kind: string): boolean {
    return builtinSchemas().kinds.has(kindKey(apiVersion, kind));
  }

  /** The compiled check of a kind, compiled on first use. */
  check(apiVersion: string, kind: string): SchemaCheck | undefined {
    const key = kindKey(apiVersion, kind);
    if (!this.#checks.has(key)) {
      const { definitions, kinds } = builtinSchemas();
      const name = kinds.get(key);
      const schema = name === undefined ? undefined : definitions.get(name);
      this.#checks.set(key, schema ? this.#compiler.compile(schema) : undefined);
    }
    return this.#checks.get(key);
  }

  /** Checks `metadata` of a custom object as Kubernetes does: as ObjectMeta. */
  metadata(): SchemaCheck {
    this.#metadata ??= this.#compiler.compile({ $ref: OBJECT_META });
    return this.#metadata;
  }

  versionsOf(kind: string): readonly string[] {
    return this.#versions.get(kind) ?? [];
  }
}

let builtins: BuiltinKinds | undefined;
function builtinKinds(): BuiltinKinds {
  builtins ??= new BuiltinKinds();
  return builtins;
}

/** True when the apiVersion and kind are one of Kubernetes' own (`apps/v1` `Deployment`). */
export function supportsKubernetesKind(apiVersion: string, kind: string): boolean {
  return builtinKinds().has(apiVersion, kind);
}

/**
 * Checks one object of a Kubernetes kind against the OpenAPI schema of its
 * kind: unknown fields (with the closest known name), required fields,
 * types, enums and formats. Each problem names the field and its file and
 * line. An object of a kind Kubernetes does not define is one problem
 * naming it. Pure once the schemas are loaded (on first use).
 */
export function validateKubernetesObject(object: RenderedObject): Problem[] {
  return validateWith(object, new Map());
}

/** A TargetValidator for Kubernetes that can learn the kinds defined by CustomResourceDefinitions. */
export interface KubernetesValidator extends TargetValidator {
  /** The kinds defined by CRDs it knows, beyond Kubernetes' own. */
  readonly customKinds: readonly CustomKind[];
}

/**
 * The Kubernetes target's validator: Kubernetes' own kinds, plus the kinds
 * defined by the CustomResourceDefinitions among `objects` (the rendered
 * objects of a repository or an application), whose custom objects are
 * checked against the CRD's `openAPIV3Schema`. `withObjects` returns one
 * that also knows the CRDs among other objects.
 */
export function kubernetesValidator(objects: readonly RenderedObject[] = []): KubernetesValidator & Required<Pick<TargetValidator, "withObjects">> {
  const custom = customKinds(objects);
  const byKey = new Map(custom.map((k) => [kindKey(k.apiVersion, k.kind), k]));
  // `ferry validate` asks once per application with the same list: compile its CRDs once.
  const learned = new WeakMap<readonly RenderedObject[], KubernetesValidator & Required<Pick<TargetValidator, "withObjects">>>();
  return {
    name: KUBERNETES_TARGET,
    customKinds: custom,
    supports: (apiVersion, kind) => byKey.has(kindKey(apiVersion, kind)) || supportsKubernetesKind(apiVersion, kind),
    validate: (object) => validateWith(object, byKey),
    withObjects: (more) => {
      let found = learned.get(more);
      if (!found) {
        found = kubernetesValidator([...objects, ...more]);
        learned.set(more, found);
      }
      return found;
    },
  };
}

function validateWith(object: RenderedObject, custom: ReadonlyMap<string, CustomKind>): Problem[] {
  const { apiVersion, kind } = object.manifest;
  const issues: SchemaIssue[] = [];
  const builtin = builtinKinds().check(apiVersion, kind);
  const defined = custom.get(kindKey(apiVersion, kind));
  if (builtin) builtin(object.manifest, "", issues);
  else if (defined) {
    builtinKinds().metadata()(object.manifest.metadata, "/metadata", issues);
    defined.check(object.manifest, "", issues);
  } else return [problemAt(unknownKindMessage(apiVersion, kind, custom), locate(object.origin, "/kind"), "/kind")];
  return issues.map((i) => problemAt(i.message, (i.unknown ? locateKey : locate)(object.origin, i.pointer), i.pointer));
}

function unknownKindMessage(apiVersion: string, kind: string, custom: ReadonlyMap<string, CustomKind>): string {
  const versions = [...builtinKinds().versionsOf(kind), ...[...custom.values()].filter((k) => k.kind === kind).map((k) => k.apiVersion)];
  const what = `unknown kind ${JSON.stringify(kind)} (apiVersion ${apiVersion})`;
  if (versions.length > 0) return `${what}: ${kind} exists in apiVersion ${versions.join(", ")}`;
  return `${what}: it is not a Kubernetes kind and no CustomResourceDefinition among the rendered objects defines it`;
}
