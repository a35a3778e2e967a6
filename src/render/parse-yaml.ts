import type { Document, Node as YamlNode, Pair } from "yaml";
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseAllDocuments } from "yaml";
import type { Problem } from "../core/errors.js";
import { problemAt } from "../core/errors.js";
import type { JsonObject } from "../core/json.js";
import { toPointer } from "../core/json.js";
import type { SourceLocation, SourcePosition } from "../core/location.js";
import type { ManifestFile } from "./load-files.js";
import { yamlBoundsProblem } from "./yaml-bounds.js";

/** One YAML document of a file, as plain JSON, with the position of every field. */
export interface ParsedDocument {
  readonly value: JsonObject;
  /** 0-based index of the document in its file (empty documents count). */
  readonly document: number;
  /** Where the document's content starts. */
  readonly line: number;
  readonly column: number;
  /** JSON pointer -> position of that mapping value or sequence item (of its key when the value is empty). */
  readonly positions: Readonly<Record<string, SourcePosition>>;
}

/**
 * Aliases may be expanded at most this many times per document: a few
 * anchors are normal, an exponential "billion laughs" file fails cleanly.
 */
export const MAX_ALIAS_COUNT = 100;

/**
 * Results `parseOffThread` (parse-pool.ts) computed for these very file
 * objects, so renderers find them parsed. A memo of a pure function: the
 * result is what parsing would give; entries go with their files.
 */
export const preParsed = new WeakMap<ManifestFile, { documents: ParsedDocument[]; problems: Problem[] }>();

/** Past this many problems in one file the rest are summed up: a binary or garbled file would print thousands. */
const MAX_PROBLEMS_PER_FILE = 20;

/**
 * Parses every document of a YAML file into plain JSON objects. Syntax
 * errors, duplicate keys, unknown tags, non-JSON values (`.inf`), alias
 * bombs and documents that are not mappings become problems with file,
 * line and column. Empty documents are skipped. Pure.
 */
export function parseManifests(file: ManifestFile): { documents: ParsedDocument[]; problems: Problem[] } {
  const done = preParsed.get(file);
  if (done) return done;
  // Checked first, in one linear pass: the parser's time and memory grow with nesting and node count.
  const bounds = yamlBoundsProblem(file.path, file.content);
  if (bounds) return { documents: [], problems: [bounds] };
  const lineCounter = new LineCounter();
  const streamDocs = parseAllDocuments(file.content, {
    lineCounter,
    prettyErrors: false,
    // The parser's own check compares every key with every other (quadratic): collectPositions checks with a set.
    uniqueKeys: false,
    // The core schema keeps `2024-01-01` and `yes` strings; no YAML 1.1 extras (!!binary, !!timestamp).
    schema: "core",
    resolveKnownTags: false,
    // Merge keys (`<<: *defaults`) are common in hand-written manifests and Kubernetes' parser accepts them.
    merge: true,
  });
  const at = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const documents: ParsedDocument[] = [];
  const problems: Problem[] = [];
  streamDocs.forEach((doc, index) => {
    const parsed = parseDocument(doc, index, file.path, at, Math.max(0, MAX_PROBLEMS_PER_FILE - problems.length));
    problems.push(...parsed.problems);
    if (parsed.document) documents.push(parsed.document);
  });
  if (problems.length > MAX_PROBLEMS_PER_FILE) {
    const rest = problems.length - MAX_PROBLEMS_PER_FILE;
    problems.splice(MAX_PROBLEMS_PER_FILE, rest, problemAt(`${rest} more problems in this file not shown`, { file: file.path, line: 1, column: 1 }));
  }
  return { documents, problems };
}

type PositionOf = (offset: number) => SourcePosition;

/**
 * One document's value and positions, or its problems. Only the first
 * `detailed` syntax errors are traced to the string or list they open (a
 * walk of the document each); the rest are told where the parser saw them,
 * so a file of errors stays linear.
 */
function parseDocument(doc: Document.Parsed, index: number, file: string, at: PositionOf, detailed: number): { document?: ParsedDocument; problems: Problem[] } {
  const where = (offset: number): SourceLocation => ({ file, ...at(offset) });
  const problems: Problem[] = [];
  doc.errors.forEach((error, i) => {
    problems.push(i < detailed ? syntaxProblem(doc, error.code, error.message, error.pos[0], where) : problemAt(lowerFirst(error.message), where(error.pos[0])));
  });
  for (const warning of doc.warnings) {
    if (warning.code === "TAG_RESOLVE_FAILED") {
      const tag = warning.message.replace(/^Unresolved tag: /, "").replace(/^tag:yaml\.org,2002:/, "!!");
      problems.push(problemAt(`unknown tag ${tag}: manifests are plain json, remove the tag`, where(warning.pos[0])));
    } else problems.push(problemAt(lowerFirst(warning.message), where(warning.pos[0])));
  }
  if (problems.length > 0) return { problems };

  const contents = doc.contents;
  if (contents === null || (isScalar(contents) && contents.value === null)) return { problems };
  const start = at(contents.range[0]);
  if (!isMap(contents)) {
    const shape = isSeq(contents) ? "a list" : isAlias(contents) ? "an alias" : "a single value";
    problems.push(problemAt(`document ${index + 1} is ${shape}, not a mapping: each document must be one object with apiVersion, kind and metadata`, where(contents.range[0])));
    return { problems };
  }

  const positions: Record<string, SourcePosition> = {};
  collectPositions(contents, [], { positions, problems, at, where });
  if (problems.length > 0) return { problems };

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const text = /excessive alias count/i.test(message)
      ? `aliases expand to too much data (more than ${MAX_ALIAS_COUNT} expansions): write the values out instead of nesting aliases`
      : lowerFirst(message);
    problems.push(problemAt(text, where(contents.range[0])));
    return { problems };
  }
  const pointer = firstNonJson(value, []);
  if (pointer) {
    const position = positions[toPointer(pointer.path)] ?? start;
    problems.push(problemAt(pointer.reason, { file, ...position }, toPointer(pointer.path)));
    return { problems };
  }
  return { document: { value: value as JsonObject, document: index, line: start.line, column: start.column, positions }, problems };
}

/**
 * Unclosed quotes and brackets are reported where the parser gave up (often
 * the end of the file); point at the string or list that opens them instead.
 */
function syntaxProblem(doc: Document.Parsed, code: string, message: string, offset: number, where: (offset: number) => SourceLocation): Problem {
  const quote = code === "MISSING_CHAR" && /quote/i.test(message);
  const flow = /flow sequence/i.test(message) ? "list" : /flow map/i.test(message) ? "mapping" : undefined;
  if (quote || flow) {
    let opener: number | undefined;
    visitNodes(doc.contents, (node) => {
      const range = node.range;
      if (!range || range[0] >= offset || range[1] < offset) return;
      const quoted = isScalar(node) && (node.type === "QUOTE_DOUBLE" || node.type === "QUOTE_SINGLE");
      const bracketed = ((flow === "list" && isSeq(node)) || (flow === "mapping" && isMap(node))) && node.flow === true;
      if ((quote && quoted) || bracketed) opener = range[0];
    });
    const what = quote ? "string" : flow;
    if (opener !== undefined) return problemAt(`${lowerFirst(message)} (the ${what} that starts here is never closed)`, where(opener));
  }
  if (code === "DUPLICATE_KEY") {
    let name: string | undefined;
    visitNodes(doc.contents, (node) => {
      if (isScalar(node) && node.range?.[0] === offset) name = String(node.value);
    });
    if (name !== undefined) return problemAt(`${lowerFirst(message)}: ${JSON.stringify(name)} appears twice`, where(offset));
  }
  return problemAt(lowerFirst(message), where(offset));
}

interface Collector {
  readonly positions: Record<string, SourcePosition>;
  readonly problems: Problem[];
  readonly at: PositionOf;
  readonly where: (offset: number) => SourceLocation;
}

/** Records where every mapping field (its value, or its key when the value is a block mapping or list) and sequence item is, and refuses keys JSON cannot carry. */
function collectPositions(node: YamlNode, path: (string | number)[], collector: Collector): void {
  const { positions, problems, at, where } = collector;
  if (isMap(node)) {
    const seen = new Set<string>();
    for (const pair of node.items as Pair<YamlNode | null, YamlNode | null>[]) {
      const key = pair.key;
      if (isScalar(key) && typeof key.value === "symbol") continue; // a merge key: toJS copies the merged fields
      const keyOffset = key?.range?.[0] ?? node.range?.[0] ?? 0;
      if (!isScalar(key)) {
        problems.push(problemAt("mapping keys must be plain values (strings, numbers or booleans), not lists, mappings or aliases", where(keyOffset)));
        continue;
      }
      if (key.value === null) {
        problems.push(problemAt("a mapping key is empty or null: quote it if you mean the text", where(keyOffset)));
        continue;
      }
      // toJS turns every key into a string, so `1` and `"1"` would silently collide.
      const name = String(key.value);
      const childPath = [...path, name];
      if (name === "__proto__") {
        problems.push(problemAt(`the key "__proto__" is not allowed`, where(keyOffset), toPointer(childPath)));
        continue;
      }
      if (seen.has(name)) problems.push(problemAt(`map keys must be unique: ${JSON.stringify(name)} appears twice`, where(keyOffset), toPointer(childPath)));
      seen.add(name);
      const value = pair.value;
      const empty = value === null || (isScalar(value) && value.value === null);
      // A block mapping or list starts on a later line than its key; the key is where people look for the field.
      const block = (isMap(value) || isSeq(value)) && !value.flow;
      positions[toPointer(childPath)] = at(empty || block || !value?.range ? keyOffset : value.range[0]);
      if (value) collectPositions(value, childPath, collector);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      const childPath = [...path, i];
      const offset = (item as YamlNode | null)?.range?.[0] ?? node.range?.[0];
      if (offset !== undefined) positions[toPointer(childPath)] = at(offset);
      if (item) collectPositions(item as YamlNode, childPath, collector);
    });
  }
}

function visitNodes(node: unknown, visit: (node: YamlNode) => void): void {
  if (!isScalar(node) && !isMap(node) && !isSeq(node) && !isAlias(node)) return;
  visit(node);
  if (isMap(node)) {
    for (const pair of node.items) {
      visitNodes(pair.key, visit);
      visitNodes(pair.value, visit);
    }
  }
  if (isSeq(node)) for (const item of node.items) visitNodes(item, visit);
}

/** Finds the first value JSON cannot carry (Infinity, NaN, or anything not a plain object). */
function firstNonJson(value: unknown, path: (string | number)[]): { path: (string | number)[]; reason: string } | undefined {
  if (value === null || typeof value === "string" || typeof value === "boolean") return undefined;
  if (typeof value === "number") {
    if (Number.isFinite(value)) return undefined;
    return { path, reason: `${Number.isNaN(value) ? ".nan" : value > 0 ? ".inf" : "-.inf"} is not a json number (quote it to keep it as text)` };
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = firstNonJson(value[i], [...path, i]);
      if (found) return found;
    }
    return undefined;
  }
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [key, item] of Object.entries(value)) {
      const found = firstNonJson(item, [...path, key]);
      if (found) return found;
    }
    return undefined;
  }
  return { path, reason: `a value of type ${typeof value} is not json: manifests are plain json` };
}

function lowerFirst(message: string): string {
  const text = message.trim().replace(/\.$/, "");
  return /^[A-Z][a-z]/.test(text) ? text.charAt(0).toLowerCase() + text.slice(1) : text;
}
