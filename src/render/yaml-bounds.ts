import { CST, Lexer, parse } from "yaml";
import type { Problem } from "../core/errors.js";
import { problemAt } from "../core/errors.js";

/**
 * What one YAML file may hold. A parser builds a node per value and recurses
 * per level of nesting, so a few megabytes of `[` or of nested lists would
 * take minutes and gigabytes; no manifest comes near these bounds.
 */
export const YAML_LIMITS = {
  /** Levels of nesting (mappings, lists, flow collections) inside one document. */
  maxDepth: 256,
  /** Documents (`---`) in one file. */
  maxDocuments: 10_000,
  /** Values, keys and collections in one file. */
  maxNodes: 1_000_000,
} as const;

/** The limits a check uses (tests lower them). */
export type YamlLimits = { readonly [K in keyof typeof YAML_LIMITS]: number };

/** Markers the lexer yields that are not source text. */
const MARKERS = new Set(["\u0002", "\u0018", "\u001f"]);

/**
 * Checks a YAML text against the limits before it is parsed, in one pass over
 * the lexer's tokens: linear in the text, constant memory but for a stack of
 * indentation columns no deeper than the limit. Block nesting is counted by
 * indentation (and compact `- - x` items), flow nesting by brackets; quoted
 * and block scalars are single tokens, so brackets inside strings do not
 * count. Returns the problem at the line where a limit is passed, or
 * undefined. Pure.
 */
export function yamlBoundsProblem(path: string, text: string, limits: YamlLimits = YAML_LIMITS): Problem | undefined {
  let line = 1;
  let lineStart = 0;
  let offset = 0;
  let flow = 0;
  let documents = 0;
  let nodes = 0;
  let atLineStart = true;
  let scalarNext = false;
  let inDocument = false;
  const columns: number[] = [];
  const at = (start: number, message: string): Problem => problemAt(message, { file: path, line, column: start - lineStart + 1 });
  /** A block node at `start`: at a line's start it closes the deeper ones; a flow collection counts by its brackets instead. */
  const open = (start: number, block = true): Problem | undefined => {
    const column = start - lineStart;
    if (atLineStart) while (columns.length > 0 && (columns[columns.length - 1] ?? 0) >= column) columns.pop();
    if (block) columns.push(column);
    atLineStart = false;
    return depthProblem(start);
  };
  const depthProblem = (start: number): Problem | undefined =>
    columns.length + flow > limits.maxDepth ? at(start, `nested more than ${limits.maxDepth} levels deep: no manifest needs this much nesting`) : undefined;

  for (const token of new Lexer().lex(text)) {
    if (MARKERS.has(token)) {
      if (token === "\u001f") {
        scalarNext = true;
        if (++nodes > limits.maxNodes) return at(offset, `more than ${limits.maxNodes} values in one file: split it`);
      }
      continue;
    }
    const start = offset;
    offset += token.length;
    let problem: Problem | undefined;
    // Content before any `---` (or after `...`) is a document too.
    if (!inDocument && !/^[\s]*$/.test(token) && token[0] !== "#" && !token.startsWith("---") && !token.startsWith("...") && !token.startsWith("%")) {
      if (++documents > limits.maxDocuments) return at(start, `more than ${limits.maxDocuments} documents in one file: split it`);
      inDocument = true;
    }
    if (scalarNext) {
      scalarNext = false;
      if (flow === 0 && atLineStart) problem = open(start);
      atLineStart = false;
    } else {
      switch (CST.tokenType(token)) {
        case "newline":
          atLineStart = true;
          break;
        case "space":
        case "comment":
          break;
        case "doc-start":
          if (++documents > limits.maxDocuments) return at(start, `more than ${limits.maxDocuments} documents in one file: split it`);
          inDocument = true;
          columns.length = 0;
          flow = 0;
          atLineStart = false;
          break;
        case "doc-end":
          inDocument = false;
          break;
        case "flow-seq-start":
        case "flow-map-start":
          if (++nodes > limits.maxNodes) return at(start, `more than ${limits.maxNodes} values in one file: split it`);
          if (flow === 0 && atLineStart) open(start, false);
          flow++;
          atLineStart = false;
          problem ??= depthProblem(start);
          break;
        case "flow-seq-end":
        case "flow-map-end":
          flow = Math.max(0, flow - 1);
          atLineStart = false;
          break;
        case "seq-item-ind":
        case "explicit-key-ind":
          if (++nodes > limits.maxNodes) return at(start, `more than ${limits.maxNodes} values in one file: split it`);
          if (flow === 0) problem = open(start);
          break;
        default:
          if (flow === 0 && atLineStart) problem = open(start);
          atLineStart = false;
      }
    }
    if (problem) return problem;
    // Newlines inside a token (a multi-line scalar, a newline token) move the line on.
    const last = token.lastIndexOf("\n");
    if (last !== -1) {
      for (let i = token.indexOf("\n"); i !== -1; i = token.indexOf("\n", i + 1)) line++;
      lineStart = start + last + 1;
    }
  }
  return undefined;
}

/**
 * One YAML document as plain data, for files Ferry reads for their paths (a
 * kustomization, a Chart.yaml): checked against the bounds first, and without
 * the parser's quadratic duplicate-key check. Throws on a file past the
 * bounds or that does not parse.
 */
export function parseBounded(path: string, text: string): unknown {
  const problem = yamlBoundsProblem(path, text);
  if (problem) throw new Error(problem.message);
  return parse(text, { uniqueKeys: false });
}
