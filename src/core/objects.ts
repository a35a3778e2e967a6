import type { ResourceKey } from "./ids.js";
import type { JsonObject } from "./json.js";
import type { SourceLocation, SourcePosition } from "./location.js";

/** The metadata every declared object carries, Kubernetes style. */
export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** A declared document as written: `apiVersion`, `kind`, `metadata`, and the rest (usually `spec`). */
export interface Manifest extends JsonObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: ObjectMeta & JsonObject;
}

/** Where a rendered object came from, and where each of its fields is, for errors that name the line. */
export interface Origin extends SourceLocation {
  /** 0-based index of the document inside its file. */
  readonly document: number;
  /** JSON pointer (`/spec/command`) -> position of that field: its value, or its key when the value is a block mapping or list. */
  readonly positions: Readonly<Record<string, SourcePosition>>;
  /** JSON pointer -> position of the key of that mapping field, where known: an unknown field is reported at its key. */
  readonly keyPositions?: Readonly<Record<string, SourcePosition>>;
}

/** One desired object produced by rendering a directory at a commit. Immutable. */
export interface RenderedObject {
  readonly key: ResourceKey;
  readonly manifest: Manifest;
  readonly origin: Origin;
}

/** Annotations Ferry reads from objects. */
export const ANNOTATIONS = {
  /** Integer wave: lower waves are applied (and become healthy) before higher ones. */
  wave: "ferry.dev/wave",
  /** `disabled` keeps an object from being pruned when it leaves Git. */
  prune: "ferry.dev/prune",
  /** On an Application: `"true"` lets a sync delete more than the allowed share of its objects. */
  allowMassDelete: "ferry.dev/allow-mass-delete",
  /** `"true"` marks every field value of the object secret: diffs, drift and status show a marker instead. */
  secret: "ferry.dev/secret",
} as const;

/** Where a field's key is (for a field that should not be there), else where locate puts the field. */
export function locateKey(origin: Origin, pointer: string): SourceLocation {
  const pos = origin.keyPositions?.[pointer];
  return pos ? { file: pos.file ?? origin.file, line: pos.line, column: pos.column } : locate(origin, pointer);
}

/** Best position for a field: the field itself, else its nearest parent, else the document. */
export function locate(origin: Origin, pointer: string): SourceLocation {
  let p = pointer;
  for (;;) {
    const pos = origin.positions[p];
    if (pos) return { file: pos.file ?? origin.file, line: pos.line, column: pos.column };
    if (p === "") return { file: origin.file, line: origin.line, column: origin.column };
    p = p.slice(0, p.lastIndexOf("/"));
  }
}
