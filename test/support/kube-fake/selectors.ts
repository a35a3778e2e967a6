// Label selectors (=, ==, !=, in, notin, exists, !key) and field selectors
// (metadata.name, metadata.namespace and the few per-kind fields the real
// server supports) as list and watch requests carry them.
import { badRequest } from "./status.js";
import type { JsonObject } from "./types.js";
import { objectField, stringField } from "./types.js";

/** A parsed selector: true when an object matches. */
export type Selector = (obj: JsonObject) => boolean;

type Requirement = (labels: Readonly<Record<string, string>>) => boolean;

/** Splits on commas outside parentheses. */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) {
      terms.push(text.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(text.slice(start));
  return terms.map((t) => t.trim()).filter((t) => t !== "");
}

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function checkKey(key: string, term: string): string {
  if (!KEY.test(key)) throw badRequest(`unable to parse requirement: invalid label key "${key}" in "${term}"`);
  return key;
}

function checkValue(value: string, term: string): string {
  if (!VALUE.test(value) || value.length > 63) throw badRequest(`unable to parse requirement: invalid label value "${value}" in "${term}"`);
  return value;
}

function parseRequirement(term: string): Requirement {
  const set = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(term);
  if (set) {
    const key = checkKey(set[1] ?? "", term);
    const values = new Set((set[3] ?? "").split(",").map((v) => checkValue(v.trim(), term)));
    return set[2] === "in" ? (l) => key in l && values.has(l[key] ?? "") : (l) => !(key in l) || !values.has(l[key] ?? "");
  }
  const op = /^([^=!<>\s]+)\s*(==|!=|=)\s*(.*)$/.exec(term);
  if (op) {
    const key = checkKey(op[1] ?? "", term);
    const value = checkValue((op[3] ?? "").trim(), term);
    return op[2] === "!=" ? (l) => l[key] !== value : (l) => l[key] === value;
  }
  if (term.startsWith("!")) {
    const key = checkKey(term.slice(1).trim(), term);
    return (l) => !(key in l);
  }
  if (/[<>]/.test(term)) throw badRequest(`unable to parse requirement: operators < and > are not supported by this server: "${term}"`);
  const key = checkKey(term, term);
  return (l) => key in l;
}

function labelsOf(obj: JsonObject): Record<string, string> {
  const labels = objectField(objectField(obj, "metadata"), "labels") ?? {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (typeof v === "string") out[k] = v;
  return out;
}

/** Parses a `labelSelector` query parameter; a malformed one is a 400 as on the real server. */
export function parseLabelSelector(text: string | null): Selector {
  if (text === null || text.trim() === "") return () => true;
  const requirements = splitTerms(text).map(parseRequirement);
  return (obj) => {
    const labels = labelsOf(obj);
    return requirements.every((r) => r(labels));
  };
}

/** The value of a field a field selector may name, per kind. */
function fieldValue(obj: JsonObject, kind: string, field: string): string | undefined {
  const meta = objectField(obj, "metadata");
  if (field === "metadata.name") return stringField(meta, "name") ?? "";
  if (field === "metadata.namespace") return stringField(meta, "namespace") ?? "";
  if (kind === "Secret" && field === "type") return stringField(obj, "type") ?? "";
  if (kind === "Pod" && field === "status.phase") return stringField(objectField(obj, "status"), "phase") ?? "";
  if (kind === "Pod" && field === "spec.nodeName") return stringField(objectField(obj, "spec"), "nodeName") ?? "";
  return undefined;
}

/** Parses a `fieldSelector` for a kind; unsupported fields are refused as the real server does. */
export function parseFieldSelector(text: string | null, kind: string): Selector {
  if (text === null || text.trim() === "") return () => true;
  const checks = splitTerms(text).map((term) => {
    const m = /^([^=!\s]+)\s*(==|!=|=)\s*(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
    const field = m[1] ?? "";
    const value = (m[3] ?? "").trim();
    if (fieldValue({ metadata: {} }, kind, field) === undefined) {
      throw badRequest(`"${field}" is not a known field selector: only "metadata.name", "metadata.namespace"`);
    }
    const negate = m[2] === "!=";
    return (obj: JsonObject) => (fieldValue(obj, kind, field) === value) !== negate;
  });
  return (obj) => checks.every((c) => c(obj));
}
