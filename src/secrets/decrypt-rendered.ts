import type { Document } from "yaml";
import { yamlBoundsProblem } from "../render/yaml-bounds.js";
import { LineCounter, parseAllDocuments } from "yaml";
import type { Problem } from "../core/errors.js";
import { problemAt } from "../core/errors.js";
import type { ResourceKey } from "../core/ids.js";
import { displayKey } from "../core/ids.js";
import type { JsonValue } from "../core/json.js";
import { escapePointerSegment, isJsonObject } from "../core/json.js";
import type { Manifest, RenderedObject } from "../core/objects.js";
import type { ManifestFile } from "../render/load-files.js";
import type { AgeIdentity } from "./age.js";
import { decryptAge, dearmor, isArmoredAge, parseAgeHeader } from "./age.js";
import type { OpenedSopsDocument } from "./sops.js";
import { decryptSopsValue, isSopsDocument, isSopsValue, openSopsDocument, sopsBlockIdentity, sopsPath } from "./sops.js";

/** A tool's rendered objects with their encrypted values decrypted (or, without a key, checked and stood in for). */
export interface DecryptedObjects {
  readonly objects: readonly RenderedObject[];
  /** The objects that held encrypted values: they are secret. */
  readonly secret: ReadonlySet<ResourceKey>;
  /** The source files whose SOPS documents were verified and used, sorted. */
  readonly sources: readonly string[];
  readonly problems: readonly Problem[];
}

/** One SOPS document of a source file. */
interface SourceDocument {
  readonly file: string;
  readonly line: number;
  readonly doc: Document;
  readonly content: string;
}

/** True when some object carries a top-level `sops` block or an armored age value: what decryptRenderedObjects decrypts. */
export function holdsEncryptedContent(objects: readonly RenderedObject[]): boolean {
  return objects.some((o) => Object.hasOwn(o.manifest, "sops") || someString(o.manifest, isArmoredAge));
}

/**
 * Decrypts the objects a tool (kustomize) rendered from SOPS files it passed
 * through unchanged except for clear fields (a namespace, labels, a name
 * prefix): their MAC no longer matches, so the proof comes from the source.
 * For each object with a top-level `sops` block, the SOPS documents of
 * `sources` with the same block (same MAC, same age stanzas) are decrypted
 * and their MAC verified; then each `ENC[...]` value of the object must be
 * one that source holds at the same path, and is decrypted with the source's
 * data key and its path as additional data (a value moved or altered fails).
 * The `sops` block is removed. Armored age values are decrypted as in plain
 * manifests. With `identities` undefined nothing is decrypted: structure is
 * checked and typed placeholders stand in. A problem names the source file,
 * or the object when no source matches; its object is left out. Pure.
 */
export function decryptRenderedObjects(objects: readonly RenderedObject[], sources: readonly ManifestFile[], identities: readonly AgeIdentity[] | undefined): DecryptedObjects {
  const out: RenderedObject[] = [];
  const secret = new Set<ResourceKey>();
  const used = new Set<string>();
  const problems: Problem[] = [];
  const index = indexSopsDocuments(sources);
  // Each source document is verified once, however many objects came from it.
  const opened = new Map<SourceDocument, OpenedSopsDocument | ObjectProblem>();
  const open = (source: SourceDocument): OpenedSopsDocument => {
    let result = opened.get(source);
    if (!result) {
      try {
        result = openSopsDocument(source.doc, source.content, identities);
      } catch (error) {
        const what = identities ? "cannot decrypt" : "encrypted content is malformed";
        result = new ObjectProblem(problemAt(`${source.file}: ${what}: ${(error as Error).message}`, { file: source.file, line: source.line, column: 1 }));
      }
      opened.set(source, result);
    }
    if (result instanceof ObjectProblem) throw result;
    return result;
  };
  for (const object of objects) {
    const at = (message: string, field?: string): ObjectProblem =>
      new ObjectProblem(problemAt(`${displayKey(object.key)}: ${message}`, { file: object.origin.file, line: object.origin.line, column: object.origin.column }, field));
    try {
      if (Object.hasOwn(object.manifest, "sops")) {
        const identity = sopsBlockIdentity(object.manifest["sops"]);
        if (identity === undefined) throw at("its sops block is not one Ferry reads (age recipients, lastmodified and mac are required)", "/sops");
        const candidates = index.get(identity) ?? [];
        if (candidates.length === 0) {
          throw at("it carries a sops block that matches no SOPS file this source reads: only documents encrypted by sops in the repository are decrypted", "/sops");
        }
        const verified: OpenedSopsDocument[] = [];
        for (const candidate of candidates) {
          verified.push(open(candidate));
          used.add(candidate.file);
        }
        const manifest = decryptSopsObject(object.manifest, verified, candidates.map((c) => c.file), at);
        out.push({ ...object, manifest });
        secret.add(object.key);
      } else if (someString(object.manifest, isArmoredAge)) {
        out.push({ ...object, manifest: decryptAgeStrings(object.manifest, identities, at) });
        secret.add(object.key);
      } else out.push(object);
    } catch (error) {
      if (error instanceof ObjectProblem) problems.push(error.problem);
      else throw error;
    }
  }
  return { objects: out, secret, sources: [...used].sort(), problems };
}

/** The object's values decrypted with its verified sources' data key, its `sops` block gone. */
function decryptSopsObject(manifest: Manifest, sources: readonly OpenedSopsDocument[], files: readonly string[], at: (message: string, field?: string) => ObjectProblem): Manifest {
  const dataKey = sources[0]?.dataKey;
  const visit = (value: JsonValue, path: readonly string[], pointer: string): JsonValue => {
    if (Array.isArray(value)) return (value as readonly JsonValue[]).map((item, i) => visit(item, path, `${pointer}/${i}`));
    if (isJsonObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, visit(v, [...path, k], `${pointer}/${escapePointerSegment(k)}`)]));
    if (typeof value !== "string" || !isSopsValue(value)) return value;
    if (!sources.some((s) => s.encrypted.get(sopsPath(path))?.has(value))) {
      throw at(`this encrypted value is not the one ${files.join(", ")} holds at ${path.join(".")} (moved, replaced or altered after sops encrypted it)`, pointer);
    }
    try {
      return decryptSopsValue(value, dataKey, path);
    } catch (error) {
      throw at(`${files.join(", ")}: cannot decrypt: ${(error as Error).message}`, pointer);
    }
  };
  const { sops: _sops, ...rest } = manifest;
  return visit(rest, [], "") as Manifest;
}

/** Every armored age string of the object decrypted (without identities: its header checked, a placeholder in its place). */
function decryptAgeStrings(manifest: Manifest, identities: readonly AgeIdentity[] | undefined, at: (message: string, field?: string) => ObjectProblem): Manifest {
  const visit = (value: JsonValue, pointer: string): JsonValue => {
    if (Array.isArray(value)) return (value as readonly JsonValue[]).map((item, i) => visit(item, `${pointer}/${i}`));
    if (isJsonObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, visit(v, `${pointer}/${escapePointerSegment(k)}`)]));
    if (typeof value !== "string" || !isArmoredAge(value)) return value;
    try {
      if (identities) return decryptAge(value, identities).toString("utf8");
      parseAgeHeader(dearmor(value));
      return "(encrypted)";
    } catch (error) {
      throw at(`${identities ? "cannot decrypt" : "encrypted content is malformed"}: ${(error as Error).message}`, pointer);
    }
  };
  return visit(manifest, "") as Manifest;
}

/** The SOPS documents of the source files, by the identity of their `sops` block. */
function indexSopsDocuments(sources: readonly ManifestFile[]): Map<string, SourceDocument[]> {
  const index = new Map<string, SourceDocument[]>();
  for (const file of sources) {
    if (!file.content.includes("sops") || !file.content.includes("ENC[AES256_GCM,")) continue;
    // Past the parser's bounds a file is no source worth parsing (and its render was refused); the parser's own duplicate-key check is quadratic.
    if (yamlBoundsProblem(file.path, file.content)) continue;
    const lineCounter = new LineCounter();
    const docs = parseAllDocuments(file.content, { lineCounter, prettyErrors: false, schema: "core", resolveKnownTags: false, uniqueKeys: false });
    if (!Array.isArray(docs)) continue;
    for (const doc of docs) {
      if (doc.errors.length > 0 || !isSopsDocument(doc)) continue;
      let block: unknown;
      try {
        block = (doc.toJS() as Record<string, unknown>)["sops"];
      } catch {
        continue; // not a document sops wrote
      }
      const identity = sopsBlockIdentity(block);
      if (identity === undefined) continue;
      const found = index.get(identity) ?? [];
      found.push({ file: file.path, line: lineCounter.linePos(doc.range[0]).line, doc, content: file.content });
      index.set(identity, found);
    }
  }
  return index;
}

function someString(value: JsonValue, test: (text: string) => boolean): boolean {
  if (typeof value === "string") return test(value);
  if (Array.isArray(value)) return (value as readonly JsonValue[]).some((v) => someString(v, test));
  if (isJsonObject(value)) return Object.values(value).some((v) => someString(v, test));
  return false;
}

/** A problem that leaves one object out. */
class ObjectProblem extends Error {
  constructor(readonly problem: Problem) {
    super(problem.message);
  }
}
