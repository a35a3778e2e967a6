import { createTwoFilesPatch } from "diff";

/** Larger contents are not diffed: the diff says so instead. */
export const MAX_DIFFED_BYTES = 256 * 1024;

/**
 * A unified diff of a file's content, live (`a/`) to Git (`b/`), as `git diff`
 * prints it; or a line saying why there is none (binary, too large). Pure.
 */
export function unifiedContentDiff(path: string, live: Buffer, desired: Buffer): string {
  const size = Math.max(live.length, desired.length);
  if (size > MAX_DIFFED_BYTES) return `content differs (${size} bytes: files over ${MAX_DIFFED_BYTES / 1024} KiB are not diffed)`;
  if (isBinary(live) || isBinary(desired)) return "binary content differs (not diffed)";
  const name = path.replace(/^\/+/, "");
  const patch = createTwoFilesPatch(`a/${name}`, `b/${name}`, live.toString("utf8"), desired.toString("utf8"), undefined, undefined, { context: 3 });
  // The first line is the library's `===` separator; the headers and hunks are what `git diff` shows.
  return patch.split("\n").filter((line, i) => !(i === 0 && line.startsWith("====="))).join("\n").trimEnd();
}

/** Binary as git judges it: a NUL byte in the first 8000 bytes. */
function isBinary(content: Buffer): boolean {
  return content.subarray(0, 8000).includes(0);
}
