import path from "node:path";
import { z } from "zod";
import type { Problem } from "../core/errors.js";
import { problemAt } from "../core/errors.js";
import type { ResourceKey } from "../core/ids.js";
import { displayKey } from "../core/ids.js";
import type { JsonObject, JsonValue } from "../core/json.js";
import { escapePointerSegment, isJsonObject } from "../core/json.js";
import type { SourceLocation, SourcePosition } from "../core/location.js";
import type { Manifest, Origin, RenderedObject } from "../core/objects.js";
import { locate } from "../core/objects.js";
import { schemaProblems } from "../validate/schema-problems.js";
import type { ManifestFile } from "./load-files.js";
import { parseManifests } from "./parse-yaml.js";
import type { LabelSet, OverlayTransforms } from "./overlay-transforms.js";
import { transformObjects } from "./overlay-transforms.js";
import { renderPlain } from "./render-plain.js";
import type { RenderResult } from "./renderer.js";

/** The file that makes a directory an overlay. */
export const OVERLAY_FILE = /^ferry-overlay\.ya?ml$/;
/** Annotation on a patch that removes the base's object instead of patching it. */
export const PATCH_ANNOTATION = "ferry.dev/patch";
/** Overlays over overlays deeper than this are a mistake (or a loop). */
export const MAX_OVERLAY_DEPTH = 8;

const stringMap = z.record(z.string().min(1), z.string());

/** The `spec` of an Overlay: its bases, and what it changes on every object it renders (Kustomize's fields of the same names). */
export const overlaySpecSchema = z.strictObject({
  bases: z
    .array(z.string().min(1))
    .min(1)
    .meta({ description: "Directories rendered first, relative to this one (e.g. ../../base); later ones may not redeclare objects of earlier ones." }),
  namePrefix: z.string().optional().meta({ description: "Put before the name of every object (not Namespaces and CustomResourceDefinitions); fields of other objects that name it follow." }),
  nameSuffix: z.string().optional().meta({ description: "Put after the name of every object, as namePrefix." }),
  commonLabels: stringMap
    .optional()
    .meta({ description: "Labels added to every object, and (Kubernetes) to its pod templates and selectors. Selectors are immutable on a live Deployment: prefer labels for a running application." }),
  labels: z
    .array(
      z.strictObject({
        pairs: stringMap,
        includeSelectors: z.boolean().default(false).meta({ description: "Also into selectors and pod templates, as commonLabels." }),
        includeTemplates: z.boolean().default(false).meta({ description: "Also into pod templates (Kubernetes)." }),
      }),
    )
    .optional()
    .meta({ description: "Labels added to every object; by default only to its metadata." }),
  commonAnnotations: stringMap.optional().meta({ description: "Annotations added to every object and (Kubernetes) to its pod templates." }),
});

const overlaySchema = z.strictObject({
  apiVersion: z.literal("ferry.dev/v1"),
  kind: z.literal("Overlay"),
  metadata: z.strictObject({ name: z.string().min(1) }).optional(),
  spec: overlaySpecSchema,
});

/** What an overlay file says: its bases (relative to the repository root) and its transformers. */
export interface OverlayDefinition {
  readonly bases: string[];
  readonly transforms: OverlayTransforms;
  /** Locates a field of the overlay file. */
  readonly at: (field: string) => SourceLocation;
  readonly problems: Problem[];
}

/** The overlay file directly in `dir`, if there is one. */
export function overlayFileOf(files: readonly ManifestFile[], dir: string): ManifestFile | undefined {
  return files.find((f) => path.posix.dirname(f.path) === (dir === "" ? "." : dir) && OVERLAY_FILE.test(path.posix.basename(f.path)));
}

/**
 * The base directories an overlay names, relative to the repository root,
 * or the problems with its overlay file (each at its line). A base must stay
 * inside the repository and must neither contain the overlay nor lie inside it.
 */
export function overlayBases(file: ManifestFile, dir: string): { bases: string[]; problems: Problem[] } {
  const { bases, problems } = readOverlay(file, dir);
  return { bases, problems };
}

/** Reads an overlay file: its bases (see overlayBases) and its transformers, or the problems at their lines. */
export function readOverlay(file: ManifestFile, dir: string): OverlayDefinition {
  const none: OverlayTransforms = { labels: [] };
  const fail = (problems: Problem[]): OverlayDefinition => ({ bases: [], transforms: none, at: () => ({ file: file.path, line: 1, column: 1 }), problems });
  const parsed = parseManifests(file);
  if (parsed.problems.length > 0) return fail(parsed.problems);
  const [doc, extra] = parsed.documents;
  if (!doc) return fail([problemAt("the overlay file is empty: it needs spec.bases", { file: file.path, line: 1, column: 1 })]);
  const origin: Origin = { file: file.path, line: doc.line, column: doc.column, document: doc.document, positions: doc.positions, keyPositions: doc.keyPositions };
  if (extra) return fail([problemAt("an overlay file holds one document", { file: file.path, line: extra.line, column: extra.column })]);
  const problems = schemaProblems(overlaySchema, doc.value, origin);
  const result = overlaySchema.safeParse(doc.value);
  if (problems.length > 0 || !result.success) return fail(problems);
  const bases: string[] = [];
  result.data.spec.bases.forEach((base, index) => {
    const field = `/spec/bases/${index}`;
    const at = (message: string): void => void problems.push(problemAt(message, locate(origin, field), field));
    if (path.posix.isAbsolute(base)) return at(`base ${JSON.stringify(base)} must be relative to the overlay's directory`);
    const resolved = path.posix.normalize(path.posix.join(dir === "" ? "." : dir, base));
    if (resolved === ".." || resolved.startsWith("../")) return at(`base ${JSON.stringify(base)} leaves the repository`);
    const normalized = resolved === "." ? "" : resolved;
    if (isWithin(normalized, dir)) return at(`base ${JSON.stringify(base)} is the overlay's own directory or inside it`);
    if (isWithin(dir, normalized)) return at(`base ${JSON.stringify(base)} contains the overlay: its files would be rendered twice`);
    bases.push(normalized);
  });
  const spec = result.data.spec;
  const labels: LabelSet[] = [];
  if (spec.commonLabels) labels.push({ pairs: spec.commonLabels, includeSelectors: true, includeTemplates: true, field: "/spec/commonLabels" });
  spec.labels?.forEach((set, index) => labels.push({ ...set, field: `/spec/labels/${index}/pairs` }));
  const transforms: OverlayTransforms = {
    ...(spec.namePrefix !== undefined ? { namePrefix: spec.namePrefix } : {}),
    ...(spec.nameSuffix !== undefined ? { nameSuffix: spec.nameSuffix } : {}),
    labels,
    ...(spec.commonAnnotations !== undefined ? { annotations: spec.commonAnnotations } : {}),
  };
  return { bases, transforms, at: (field) => locate(origin, field), problems };
}

/**
 * Renders `dir` as an overlay: the objects of its bases (each rendered the same
 * way, so overlays stack), then every document of the overlay's own files as a
 * patch of the base object with the same apiVersion, kind, namespace and name
 * (a JSON merge patch: mappings merge, lists and scalars replace, null removes
 * a field; `ferry.dev/patch: delete` removes the object) or, when no base has
 * it, as a new object; then the overlay's transformers (name prefix and
 * suffix with the references that follow them, labels, annotations) apply to
 * every object. Errors in a patched field name the overlay's file and line. `files` holds the files of the overlay and of every base. Pure.
 */
export function renderOverlay(files: readonly ManifestFile[], dir: string, depth = 0, seen: readonly string[] = []): RenderResult {
  const overlayFile = overlayFileOf(files, dir);
  if (!overlayFile) return renderPlain(filesIn(files, dir));
  if (depth > MAX_OVERLAY_DEPTH || seen.includes(dir)) {
    const chain = [...seen, dir].map((d) => d || ".").join(" -> ");
    return { objects: [], problems: [problemAt(`overlays nest too deep or in a loop: ${chain}`, { file: overlayFile.path, line: 1, column: 1 })] };
  }
  const { bases, transforms, at, problems } = readOverlay(overlayFile, dir);
  if (problems.length > 0) return { objects: [], problems };

  const byKey = new Map<ResourceKey, RenderedObject>();
  for (const base of bases) {
    const rendered = renderOverlay(files, base, depth + 1, [...seen, dir]);
    problems.push(...rendered.problems);
    for (const object of rendered.objects) {
      const previous = byKey.get(object.key);
      if (previous) {
        problems.push(problemAt(`${displayKey(object.key)} is declared by two bases: first at ${previous.origin.file}:${previous.origin.line}`, locate(object.origin, "")));
      } else byKey.set(object.key, object);
    }
  }
  const own = renderPlain(filesIn(files, dir).filter((f) => f !== overlayFile));
  problems.push(...own.problems);
  if (problems.length > 0) return { objects: [], problems };

  for (const patch of own.objects) {
    const base = byKey.get(patch.key);
    if (!base) {
      if (isDeletePatch(patch.manifest)) {
        const field = `/metadata/annotations/${escapePointerSegment(PATCH_ANNOTATION)}`;
        problems.push(problemAt(`${displayKey(patch.key)} is marked for deletion, but no base declares it`, locate(patch.origin, field), field));
      } else byKey.set(patch.key, patch);
      continue;
    }
    if (isDeletePatch(patch.manifest)) byKey.delete(patch.key);
    else byKey.set(patch.key, patchObject(base, patch));
  }
  const transformed = transformObjects([...byKey.values()], transforms, at);
  if (transformed.problems.length > 0) return { objects: [], problems: transformed.problems };
  const objects = transformed.objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { objects, problems };
}

/** The files of one rendered directory: below `dir`, and not the marker of a layout. */
export function filesIn(files: readonly ManifestFile[], dir: string): ManifestFile[] {
  return files.filter((f) => isWithin(f.path, dir));
}

/** Merges a patch into a base object; positions of patched fields point into the patch's file. */
function patchObject(base: RenderedObject, patch: RenderedObject): RenderedObject {
  const positions: Record<string, SourcePosition> = { ...base.origin.positions };
  const keyPositions: Record<string, SourcePosition> = { ...base.origin.keyPositions };
  const manifest = mergePatch(base.manifest, patch.manifest, "", (pointer) => {
    for (const [into, from] of [
      [positions, patch.origin.positions],
      [keyPositions, patch.origin.keyPositions ?? {}],
    ] as const) {
      for (const key of Object.keys(into)) if (key === pointer || key.startsWith(`${pointer}/`)) delete into[key];
      for (const [key, position] of Object.entries(from)) {
        if (key === pointer || key.startsWith(`${pointer}/`)) into[key] = { ...position, file: patch.origin.file };
      }
    }
  }) as Manifest;
  return { key: base.key, manifest, origin: { ...base.origin, positions, keyPositions } };
}

/**
 * A JSON merge patch (RFC 7386, as RFC 7396 restates it): a mapping merges
 * into a mapping, null removes a field, anything else replaces. A mapping set
 * where the target has none (or has a scalar or list) is merged into an empty
 * mapping, so the nulls inside it remove nothing and do not stay either
 * (`strategy: {type: Recreate, rollingUpdate: null}` adds just the type).
 * `replaced` is told the pointer of every field the patch set or removed.
 */
export function mergePatch(target: JsonValue, patch: JsonValue, pointer = "", replaced: (pointer: string) => void = () => undefined): JsonValue {
  if (!isJsonObject(patch)) {
    replaced(pointer);
    return patch;
  }
  if (!isJsonObject(target)) {
    // Every field under here is the patch's.
    replaced(pointer);
    return mergePatch({}, patch, pointer, () => undefined);
  }
  const result: Record<string, JsonValue> = { ...(target as JsonObject) };
  for (const [key, value] of Object.entries(patch)) {
    const child = `${pointer}/${escapePointerSegment(key)}`;
    if (value === null) {
      delete result[key];
      replaced(child);
    } else if (isJsonObject(value) && isJsonObject(result[key] ?? null)) {
      result[key] = mergePatch(result[key] as JsonValue, value, child, replaced);
    } else {
      result[key] = mergePatch(result[key] ?? null, value, child, () => undefined);
      replaced(child);
    }
  }
  return result;
}

function isDeletePatch(manifest: Manifest): boolean {
  return manifest.metadata.annotations?.[PATCH_ANNOTATION] === "delete";
}

/** True when `file` is `dir` itself or below it (`""` is the repository root). */
function isWithin(file: string, dir: string): boolean {
  return dir === "" || file === dir || file.startsWith(`${dir}/`);
}
