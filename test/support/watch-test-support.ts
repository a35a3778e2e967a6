import { createHash } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One request a test server saw. */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage["headers"];
  /** The status the handler answered. */
  status?: number;
}

/** A real HTTP server on 127.0.0.1 for one test, with the requests it saw. */
export interface TestServer {
  readonly base: string;
  readonly requests: SeenRequest[];
  close(): Promise<void>;
}

/** Starts a server whose handler answers every request; closed by the test's `after`. */
export async function startServer(
  t: { after: (fn: () => Promise<void>) => void },
  handler: (req: IncomingMessage, res: ServerResponse, base: string) => void,
): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  let base = "";
  const server = createServer((req, res) => {
    const seen: SeenRequest = { method: req.method ?? "GET", url: req.url ?? "/", headers: req.headers };
    requests.push(seen);
    res.on("finish", () => {
      seen.status = res.statusCode;
    });
    handler(req, res, base);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  t.after(close);
  return { base, requests, close };
}

/** Sends JSON with an ETag, or 304 when the request's If-None-Match carries that ETag. */
export function sendJson(req: IncomingMessage, res: ServerResponse, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  const etag = `"${createHash("sha1").update(text).digest("hex")}"`;
  if (req.headers["if-none-match"] === etag) {
    res.writeHead(304, { ETag: etag, ...headers }).end();
    return;
  }
  res.writeHead(200, { "Content-Type": "application/json", ETag: etag, ...headers }).end(text);
}
