import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** Where `npm run build` puts the dashboard: dist/dashboard, seen from dist/src/agent/. */
export const DASHBOARD_DIR = fileURLToPath(new URL("../../dashboard/", import.meta.url));

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".map": "application/json",
  ".woff2": "font/woff2",
};

/**
 * The page may load its own scripts and styles and talk to this agent only:
 * nothing from other origins, no inline scripts, never framed.
 */
const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

/** A path segment of a built file: letters, digits, dot, dash, underscore; never `.` or `..`. */
const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/**
 * True for the paths the dashboard is served at: `/`, `/index.html` and `/assets/...`.
 * Other paths (the API, metrics) are not the dashboard's.
 */
export function isDashboardPath(pathname: string): boolean {
  return pathname === "/" || pathname === "/index.html" || pathname === "/favicon.svg" || pathname.startsWith("/assets/");
}

/**
 * Serves one file of the built dashboard from `dir`: `/` is index.html.
 * Paths are checked segment by segment after decoding, and the result must
 * stay inside `dir`, so `..`, encoded slashes and absolute paths answer 404.
 * Only GET and HEAD; answers 404 with a hint when the dashboard was not built.
 */
export async function serveDashboardFile(dir: string, method: string, pathname: string, res: ServerResponse): Promise<void> {
  if (method !== "GET" && method !== "HEAD") return plain(res, 405, "the dashboard's files are read with GET\n");
  const relative = pathname === "/" ? "index.html" : pathname.slice(1);
  let segments: string[];
  try {
    segments = relative.split("/").map((s) => decodeURIComponent(s));
  } catch {
    return plain(res, 404, "not found\n");
  }
  if (!segments.every((s) => SEGMENT.test(s))) return plain(res, 404, "not found\n");
  const root = resolve(dir);
  const file = resolve(root, join(...segments));
  if (!file.startsWith(root + sep)) return plain(res, 404, "not found\n");
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) {
    if (relative === "index.html") return plain(res, 404, `the dashboard was not built (no ${file}): run npm run build\n`);
    return plain(res, 404, "not found\n");
  }
  res.writeHead(200, {
    "content-type": CONTENT_TYPES[extname(file)] ?? "application/octet-stream",
    "content-length": info.size,
    // Built assets carry a content hash in their names; the page itself must be fetched again.
    "cache-control": segments[0] === "assets" ? "public, max-age=31536000, immutable" : "no-cache",
    ...SECURITY_HEADERS,
  });
  if (method === "HEAD") return void res.end();
  await new Promise<void>((done, fail) => {
    createReadStream(file).on("error", fail).on("end", done).pipe(res);
  });
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" });
  res.end(text);
}
