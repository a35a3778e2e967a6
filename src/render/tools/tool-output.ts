import type { Problem } from "../../core/errors.js";
import type { RenderedObject } from "../../core/objects.js";
import type { ManifestFile } from "../load-files.js";
import { parseOffThread } from "../parse-pool.js";
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
  return objectsFromFiles(chunks, outputFiles(chunks), what);
}

/** objectsFromOutput, with the output parsed off the calling thread (see parseOffThread): a tool may print megabytes. */
export async function objectsFromOutputOffThread(chunks: readonly OutputChunk[], what: string): Promise<RenderResult> {
  const files = outputFiles(chunks);
  await parseOffThread(files);
  return objectsFromFiles(chunks, files, what);
}

/** Each chunk as a file named `(output N)`: its own line numbers mean nothing in the repository. */
function outputFiles(chunks: readonly OutputChunk[]): ManifestFile[] {
  const width = String(chunks.length).length;
  return chunks.map((chunk, i) => ({ path: `(output ${String(i).padStart(width, "0")})`, content: chunk.content }));
}

function objectsFromFiles(chunks: readonly OutputChunk[], files: readonly ManifestFile[], what: string): RenderResult {
  const byVirtual = new Map(files.map((f, i) => [f.path, chunks[i]?.file ?? ""]));
  const rendered = renderPlain(files);
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
