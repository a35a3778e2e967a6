import type { Problem } from "../../core/errors.js";
import type { RenderedObject } from "../../core/objects.js";
import { renderPlain } from "../render-plain.js";
import type { RenderResult } from "../renderer.js";

/** A piece of a tool's output and the file of the repository it came from. */
export interface OutputChunk {
  readonly content: string;
  /** Repository-relative file the objects are attributed to (a template, or the kustomization). */
  readonly file: string;
}

/**
 * Objects from the YAML a rendering tool printed, with the checks plain
 * manifests get (apiVersion, kind, a valid name, no object twice). The
 * output's own line numbers mean nothing to the user, so each object's
 * origin is the chunk's file, at line 1, and problems name that file and
 * say which tool output they are in.
 */
export function objectsFromOutput(chunks: readonly OutputChunk[], what: string): RenderResult {
  const width = String(chunks.length).length;
  const virtual = chunks.map((_, i) => `(output ${String(i).padStart(width, "0")})`);
  const byVirtual = new Map(virtual.map((v, i) => [v, chunks[i]?.file ?? ""]));
  const rendered = renderPlain(chunks.map((chunk, i) => ({ path: virtual[i] ?? "", content: chunk.content })));
  const real = (file: string): string => byVirtual.get(file) ?? file;
  const objects: RenderedObject[] = rendered.objects.map((object) => ({
    ...object,
    origin: { file: real(object.origin.file), line: 1, column: 1, document: object.origin.document, positions: {} },
  }));
  const problems: Problem[] = rendered.problems.map((problem) => {
    const message = problem.message.replace(/\(output \d+\):\d+:\d+/g, (m) => `${real(m.slice(0, m.indexOf(":")))} (another document)`);
    const file = problem.location ? real(problem.location.file) : chunks[0]?.file;
    return { ...problem, message: `in the output of ${what}: ${message}`, ...(file !== undefined ? { location: { file, line: 1, column: 1 } } : {}) };
  });
  return { objects, problems };
}
