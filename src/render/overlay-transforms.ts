import type { Problem } from "../core/errors.js";
import { problemAt } from "../core/errors.js";
import { displayKey, resourceKey } from "../core/ids.js";
import type { JsonObject, JsonValue } from "../core/json.js";
import { escapePointerSegment } from "../core/json.js";
import type { SourceLocation, SourcePosition } from "../core/location.js";
import type { Manifest, RenderedObject } from "../core/objects.js";
import type { FieldSpec } from "./field-specs.js";
import { isKind, mapStringsAtPath, mergeAtPath, pathOf, specApplies } from "./field-specs.js";
import { isObjectName, NAME_RULE, quoteForMessage } from "./names.js";
import type { LabelPlace } from "./overlay-fields.js";
import { ANNOTATION_FIELDS, LABEL_FIELDS, NAME_REFERENCES, NOT_RENAMED } from "./overlay-fields.js";

/** One set of labels and where it goes besides the objects' own metadata. */
export interface LabelSet {
  readonly pairs: Readonly<Record<string, string>>;
  readonly includeSelectors: boolean;
  readonly includeTemplates: boolean;
  /** JSON pointer of the pairs in the overlay file (`/spec/commonLabels`), for positions and errors. */
  readonly field: string;
}

/** What an overlay changes on every object it renders, after its patches. */
export interface OverlayTransforms {
  readonly namePrefix?: string;
  readonly nameSuffix?: string;
  readonly labels: readonly LabelSet[];
  readonly annotations?: Readonly<Record<string, string>>;
}

/**
 * Applies an overlay's transformers to the objects it renders, in Kustomize's
 * order: names (prefix and suffix, and every field of another object that
 * names a renamed one), then labels, then annotations. `at` locates a field
 * of the overlay file: added labels and annotations point there, and so do
 * errors of a name the prefix made invalid. Pure.
 */
export function transformObjects(
  objects: readonly RenderedObject[],
  transforms: OverlayTransforms,
  at: (field: string) => SourceLocation,
): { objects: RenderedObject[]; problems: Problem[] } {
  const problems: Problem[] = [];
  let result = renameObjects(objects, transforms, at, problems);
  for (const set of transforms.labels) result = result.map((o) => addLabels(o, set, at));
  const annotations = transforms.annotations;
  if (annotations && Object.keys(annotations).length > 0) {
    result = result.map((o) => addPairs(o, annotations, ANNOTATION_FIELDS, "/metadata/annotations", (key) => at(`/spec/commonAnnotations/${escapePointerSegment(key)}`)));
  }
  return { objects: result, problems };
}

/** Prefixes and suffixes names, then points references to renamed objects at their new names. */
function renameObjects(objects: readonly RenderedObject[], transforms: OverlayTransforms, at: (field: string) => SourceLocation, problems: Problem[]): RenderedObject[] {
  const prefix = transforms.namePrefix ?? "";
  const suffix = transforms.nameSuffix ?? "";
  if (prefix === "" && suffix === "") return [...objects];
  const renamed: { readonly before: Manifest; readonly name: string }[] = [];
  const objectsRenamed = objects.map((object) => {
    const { manifest } = object;
    if (NOT_RENAMED.some((kind) => isKind(manifest, kind))) return object;
    const name = `${prefix}${manifest.metadata.name}${suffix}`;
    if (!isObjectName(name)) {
      const field = prefix !== "" && !isObjectName(`${prefix}${manifest.metadata.name}`) ? "/spec/namePrefix" : "/spec/nameSuffix";
      problems.push(problemAt(`${displayKey(object.key)} would be renamed ${quoteForMessage(name)}, which is not a valid name: use ${NAME_RULE}`, at(field), field));
      return object;
    }
    renamed.push({ before: manifest, name });
    const next = { ...manifest, metadata: { ...manifest.metadata, name } } as Manifest;
    return { ...object, manifest: next, key: resourceKey(manifest.apiVersion, manifest.kind, name, manifest.metadata.namespace) };
  });
  return objectsRenamed.map((object) => rewriteReferences(object, renamed));
}

/** Rewrites the fields of `object` that name an object that was renamed. */
function rewriteReferences(object: RenderedObject, renamed: readonly { readonly before: Manifest; readonly name: string }[]): RenderedObject {
  let manifest: JsonValue = object.manifest;
  for (const reference of NAME_REFERENCES) {
    const candidates = renamed.filter((r) => isKind(r.before, reference.referenced));
    if (candidates.length === 0) continue;
    for (const spec of reference.from) {
      if (!specApplies(spec, object.manifest)) continue;
      manifest = mapStringsAtPath(manifest, pathOf(spec), (holder, name) => {
        if (spec.kindField && holder["kind"] !== reference.referenced.kind) return name;
        const namespace = typeof holder["namespace"] === "string" && spec.kindField ? holder["namespace"] : object.manifest.metadata.namespace;
        const match = candidates.find((c) => c.before.metadata.name === name && (reference.clusterScoped || (c.before.metadata.namespace ?? "") === (namespace ?? "")));
        return match ? match.name : name;
      });
    }
  }
  return manifest === object.manifest ? object : { ...object, manifest: manifest as Manifest };
}

function addLabels(object: RenderedObject, set: LabelSet, at: (field: string) => SourceLocation): RenderedObject {
  const places: readonly LabelPlace[] = ["metadata", ...(set.includeTemplates ? ["template" as const] : []), ...(set.includeSelectors ? ["template" as const, "selector" as const] : [])];
  return addPairs(object, set.pairs, LABEL_FIELDS.filter((f) => places.includes(f.place)), "/metadata/labels", (key) => at(`${set.field}/${escapePointerSegment(key)}`));
}

/** Merges `pairs` at every field spec that applies; the object's own labels or annotations point at the overlay's line. */
function addPairs(object: RenderedObject, pairs: Readonly<Record<string, string>>, fields: readonly FieldSpec[], own: string, where: (key: string) => SourceLocation): RenderedObject {
  let manifest: JsonValue = object.manifest;
  for (const spec of fields) if (specApplies(spec, object.manifest)) manifest = mergeAtPath(manifest, pathOf(spec), pairs, spec.create === true);
  const positions: Record<string, SourcePosition> = { ...object.origin.positions };
  for (const key of Object.keys(pairs)) positions[`${own}/${escapePointerSegment(key)}`] = where(key);
  return { ...object, manifest: manifest as JsonObject as Manifest, origin: { ...object.origin, positions } };
}

