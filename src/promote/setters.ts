import { CST, Parser, parse } from "yaml";

/** The comment that marks a YAML value as written by promotion: `version: 1.4.2 # ferry:set web:version`. */
export const SETTER_PATTERN = /^#\s*ferry:set\s+([a-z0-9][-a-z0-9]*):([A-Za-z0-9][-A-Za-z0-9_.]*)\s*$/;

/** One marked value in one file. */
export interface Setter {
  /** The pipeline the value belongs to (before the colon). */
  readonly pipeline: string;
  /** The field's name within the pipeline: `version`, `digest`, `url`, or any name of the user's. */
  readonly field: string;
  /** The value as YAML reads it. */
  readonly value: string;
  /** 1-based line of the value. */
  readonly line: number;
  /** Offset and length of the scalar's source (quotes included). */
  readonly offset: number;
  readonly length: number;
  readonly style: "plain" | "single" | "double";
}

/**
 * The values marked by a `# ferry:set <pipeline>:<field>` comment on the same
 * line, in every document of a YAML text, in order. Only scalars of block
 * mappings and sequences can be marked. Pure.
 */
export function findSetters(text: string): Setter[] {
  const setters: Setter[] = [];
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === "\n") lineStarts.push(i + 1);
  const lineOf = (offset: number): number => {
    let low = 0;
    let high = lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((lineStarts[mid] ?? 0) <= offset) low = mid;
      else high = mid - 1;
    }
    return low + 1;
  };
  for (const token of new Parser().parse(text)) {
    if (token.type !== "document") continue;
    CST.visit(token, (item) => {
      const value = item.value;
      if (!value || (value.type !== "scalar" && value.type !== "single-quoted-scalar" && value.type !== "double-quoted-scalar")) return;
      // The comment must sit on the value's own line: before the first newline of what follows it.
      const end = value.end ?? [];
      const newline = end.findIndex((t) => t.type === "newline");
      const comment = end.slice(0, newline === -1 ? undefined : newline).find((t) => t.type === "comment");
      const match = comment ? SETTER_PATTERN.exec(comment.source) : null;
      if (!match) return;
      const resolved = CST.resolveAsScalar(value);
      if (!resolved) return;
      setters.push({
        pipeline: match[1] ?? "",
        field: match[2] ?? "",
        value: resolved.value,
        line: lineOf(value.offset),
        offset: value.offset,
        length: value.source.length,
        style: value.type === "scalar" ? "plain" : value.type === "single-quoted-scalar" ? "single" : "double",
      });
    });
  }
  return setters;
}

/** The marked values of one pipeline in a text, by field (the first occurrence wins for reading). */
export function readValues(text: string, pipeline: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const setter of findSetters(text)) if (setter.pipeline === pipeline && !(setter.field in values)) values[setter.field] = setter.value;
  return values;
}

/**
 * Writes new values into the marked scalars of one pipeline, leaving every
 * other byte of the text as it was (comments, quoting style, indentation,
 * other documents). Fields absent from `values` are kept. A plain scalar whose
 * new value YAML would read as something other than that string (`2`, `true`,
 * `1e3`, a value with `: `) is written double-quoted. Returns the new text and
 * the fields it changed. Pure.
 */
export function writeValues(text: string, pipeline: string, values: Readonly<Record<string, string>>): { text: string; changed: string[] } {
  const changed = new Set<string>();
  let out = text;
  // From the end, so earlier offsets stay valid.
  const setters = findSetters(text)
    .filter((s) => s.pipeline === pipeline && values[s.field] !== undefined && values[s.field] !== s.value)
    .sort((a, b) => b.offset - a.offset);
  for (const setter of setters) {
    const value = values[setter.field] ?? "";
    out = out.slice(0, setter.offset) + formatScalar(value, setter.style) + out.slice(setter.offset + setter.length);
    changed.add(setter.field);
  }
  return { text: out, changed: [...changed].sort() };
}

function formatScalar(value: string, style: Setter["style"]): string {
  if (style === "single") return `'${value.replace(/'/g, "''")}'`;
  if (style === "double" || !isSafePlain(value)) return JSON.stringify(value);
  return value;
}

/** True when `value` written plain on one line reads back as the same string. */
function isSafePlain(value: string): boolean {
  if (value === "" || /[\n#]|: |^[\s\-?:,[\]{}&*!|>'"%@`]|\s$/.test(value)) return false;
  try {
    return parse(value) === value;
  } catch {
    return false;
  }
}
