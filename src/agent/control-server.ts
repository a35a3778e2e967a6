import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { FerryError, toFerryError } from "../core/errors.js";
import { toDiffView } from "../diff/format-diff.js";
import type { HistoryParams } from "../history/query-params.js";
import { deploymentQueryOf, historyQueryOf, InvalidHistoryParam } from "../history/query-params.js";
import type { Agent } from "./agent.js";
import type { RollbackRequest } from "./rollback.js";

/** A running control API. */
export interface ControlServer {
  readonly url: string;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;

/**
 * The agent's control API on loopback: status, diff, sync (streamed as
 * newline-delimited JSON progress), refresh and a server-sent event stream.
 * Every route but /healthz needs the bearer token from agent.json.
 */
export async function startControlServer(agent: Agent, options: { host: string; port: number; token: string }): Promise<ControlServer> {
  const expected = Buffer.from(`Bearer ${options.token}`);
  const server = createServer((req, res) => {
    handle(agent, req, res, expected).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, { error: toFerryError(error).message });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(agent: Agent, req: IncomingMessage, res: ServerResponse, expected: Buffer): Promise<void> {
  const url = new URL(req.url ?? "/", "http://localhost");
  if (url.pathname === "/healthz") return send(res, 200, { ok: true });
  const given = Buffer.from(req.headers.authorization ?? "");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return send(res, 401, { error: "missing or wrong token" });
  const body = req.method === "POST" ? await readBody(req) : undefined;
  if (body === null) return send(res, 413, { error: `request body larger than ${MAX_BODY} bytes` });

  const parts = url.pathname.split("/").filter(Boolean);
  if (parts[0] !== "api" || parts[1] !== "v1") return send(res, 404, { error: `no route ${url.pathname}` });
  const [resource, name, action] = parts.slice(2);
  if (req.method === "GET" && resource === "applications" && !name) {
    return send(res, 200, { config: agent.config(), applications: agent.statuses() });
  }
  if (resource === "applications" && name) {
    if (!agent.engine.applications().some((a) => a.name === name) && !agent.engine.status(name)) {
      return send(res, 404, { error: `unknown application ${JSON.stringify(name)}` });
    }
    if (req.method === "GET" && !action) return send(res, 200, agent.engine.status(name));
    if (req.method === "GET" && action === "diff") {
      try {
        return send(res, 200, { diffs: (await agent.engine.diff(name)).map(toDiffView) });
      } catch (error) {
        const e = toFerryError(error);
        return send(res, 422, { error: e.message, reason: e.reason, problems: e.problems });
      }
    }
    if (req.method === "POST" && action === "sync") return streamSync(agent, name, body ?? {}, res);
    if (req.method === "POST" && action === "rollback") return answer(res, () => agent.rollback(name, rollbackRequestOf(body ?? {})));
    if (req.method === "POST" && action === "release") return answer(res, async () => ({ released: await agent.release(name) }));
  }
  if (req.method === "GET" && resource === "history" && !name) {
    return answer(res, async () => (await agent.history.store()).events(historyQueryOf(paramsOf(url), new Date())));
  }
  if (req.method === "GET" && resource === "deployments" && !name) {
    return answer(res, async () => (await agent.history.store()).deployments(deploymentQueryOf(paramsOf(url), new Date())));
  }
  if (req.method === "GET" && resource === "holds" && !name) return answer(res, async () => ({ holds: await (await agent.history.store()).holds() }));
  if (req.method === "POST" && resource === "refresh") {
    await agent.refresh();
    return send(res, 200, { ok: true });
  }
  if (req.method === "GET" && resource === "events") return streamEvents(agent, req, res);
  return send(res, 404, { error: `no route ${req.method ?? ""} ${url.pathname}` });
}

/**
 * Sends what `work` returns; bad filters and refused requests (a revision that
 * never ran, a rejected push) are 422 with the reason, an unreachable history 503.
 */
async function answer(res: ServerResponse, work: () => Promise<unknown>): Promise<void> {
  try {
    send(res, 200, await work());
  } catch (error) {
    if (error instanceof InvalidHistoryParam) return send(res, 400, { error: error.message });
    if (error instanceof FerryError && error.disposition === "stalled") return send(res, 422, { error: error.message, reason: error.reason });
    const e = toFerryError(error);
    send(res, 503, { error: e.message, reason: e.reason });
  }
}

function paramsOf(url: URL): HistoryParams {
  const keys = ["application", "environment", "version", "outcome", "type", "revision", "since", "until", "at", "limit", "before"] as const;
  return Object.fromEntries(keys.flatMap((k) => (url.searchParams.has(k) ? [[k, url.searchParams.get(k) ?? ""]] : [])));
}

function rollbackRequestOf(body: Record<string, unknown>): RollbackRequest {
  const author = body.author as { name?: unknown; email?: unknown } | undefined;
  return {
    ...(typeof body.to === "string" ? { to: body.to } : {}),
    ...(typeof body.reason === "string" ? { reason: body.reason.slice(0, 1000) } : {}),
    ...(author && typeof author.name === "string" && typeof author.email === "string" ? { author: { name: author.name, email: author.email } } : {}),
  };
}

async function streamSync(agent: Agent, name: string, body: Record<string, unknown>, res: ServerResponse): Promise<void> {
  res.writeHead(200, { "content-type": "application/x-ndjson" });
  const unsubscribe = agent.engine.subscribe((event) => {
    if ("application" in event && event.application === name && event.type !== "StatusChanged") res.write(JSON.stringify(event) + "\n");
  });
  try {
    const status = await agent.engine.sync(name, { prune: body.prune === true, allowMassDelete: body.allowMassDelete === true });
    res.write(JSON.stringify({ type: "Result", status }) + "\n");
  } finally {
    unsubscribe();
    res.end();
  }
}

function streamEvents(agent: Agent, req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  res.write(": connected\n\n");
  const unsubscribe = agent.engine.subscribe((event) => res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`));
  req.on("close", unsubscribe);
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown> | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return null;
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  try {
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
