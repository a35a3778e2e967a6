import { timingSafeEqual } from "node:crypto";
import { FERRY_VERSION } from "../core/version.js";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { FerryError, toFerryError } from "../core/errors.js";
import { toDiffView } from "../diff/format-diff.js";
import type { EngineEvent } from "../engine/events.js";
import type { HistoryParams } from "../history/query-params.js";
import { deploymentQueryOf, historyQueryOf, InvalidHistoryParam } from "../history/query-params.js";
import type { Agent } from "./agent.js";
import { applicationQueryOf, InvalidApplicationQuery, queryApplications } from "./application-query.js";
import type { ApplicationList, ApplicationResponse, PipelinesResponse, ResumeResponse, RegistryWebhookResponse, WebhookResponse, SessionResponse, SuspendResponse } from "./api-types.js";
import { describeSuspension } from "../engine/status.js";
import { DASHBOARD_DIR, isDashboardPath, serveDashboardFile } from "./dashboard-files.js";
import { RateLimiter } from "./rate-limit.js";
import { diffAtRevision } from "./revision-diff.js";
import type { RollbackRequest } from "./rollback.js";
import type { WebhookProvider } from "../webhooks/verify.js";
import { verifyWebhook, WEBHOOK_PROVIDERS } from "../webhooks/verify.js";
import { verifyRegistryWebhook } from "../webhooks/registry-notice.js";

/** A running control API. */
export interface ControlServer {
  readonly url: string;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;
/** Push payloads list commits and files: larger than API requests, still bounded. */
const MAX_WEBHOOK_BODY = 2 * 1024 * 1024;

/**
 * The agent's control API (HTTPS when given a certificate and key): status, diff (now, or at a revision), sync (streamed as
 * newline-delimited JSON progress), refresh, suspend and resume, pipelines (promote, approve) and a server-sent event stream,
 * and the web dashboard's files at `/` and `/assets/`. Every route but
 * /healthz, the dashboard's files and the webhooks needs a bearer token from
 * agent.json: the admin token for actions, or the read token for GET requests.
 * Requests are rate-limited per client address.
 */
export async function startControlServer(
  agent: Agent,
  options: { host: string; port: number; token: string; readToken: string; dashboardDir?: string; tls?: { cert: Buffer; key: Buffer } },
): Promise<ControlServer> {
  const dashboardDir = options.dashboardDir ?? DASHBOARD_DIR;
  const tokens: Tokens = { admin: Buffer.from(`Bearer ${options.token}`), read: Buffer.from(`Bearer ${options.readToken}`) };
  const limits = { api: new RateLimiter({ burst: 100, perSecond: 50 }), hooks: new RateLimiter({ burst: 20, perSecond: 5 }) };
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(agent, req, res, tokens, limits, dashboardDir).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, { error: toFerryError(error).message });
      else res.end();
    });
  };
  // With a certificate the port speaks TLS only: a plain HTTP request there fails its handshake.
  const server = options.tls ? createTlsServer({ cert: options.tls.cert, key: options.tls.key }, listener) : createServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `${options.tls ? "https" : "http"}://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The bearer headers that grant each scope. */
interface Tokens {
  /** Everything, including actions (sync, refresh, rollback, release). */
  readonly admin: Buffer;
  /** GET requests only. */
  readonly read: Buffer;
}

async function handle(
  agent: Agent,
  req: IncomingMessage,
  res: ServerResponse,
  tokens: Tokens,
  limits: { api: RateLimiter; hooks: RateLimiter },
  dashboardDir: string,
): Promise<void> {
  const url = new URL(req.url ?? "/", "http://localhost");
  if (url.pathname === "/healthz") return send(res, 200, { ok: true });
  const client = req.socket.remoteAddress ?? "unknown";
  const isHook = url.pathname.startsWith("/hooks/");
  if (!(isHook ? limits.hooks : limits.api).take(client)) {
    res.setHeader("retry-after", "1");
    return send(res, 429, { error: "too many requests: slow down" });
  }
  if (isHook) return receiveWebhook(agent, url.pathname.slice("/hooks/".length), req, res);
  // The page holds no data: it asks the API for everything with the token the user gives it.
  if (isDashboardPath(url.pathname)) return serveDashboardFile(dashboardDir, req.method ?? "GET", url.pathname, res);
  const scope = scopeOf(req.headers.authorization, tokens);
  if (!scope) return send(res, 401, { error: "missing or wrong token" });
  if (scope === "read" && req.method !== "GET") return send(res, 403, { error: "this token may only read: actions need the admin token" });
  const body = req.method === "POST" ? await readBody(req) : undefined;
  if (body === null) return send(res, 413, { error: `request body larger than ${MAX_BODY} bytes` });

  if (req.method === "GET" && url.pathname === "/metrics") return sendMetrics(agent, res);
  const parts = url.pathname.split("/").filter(Boolean);
  if (parts[0] !== "api" || parts[1] !== "v1") return send(res, 404, { error: `no route ${url.pathname}` });
  const [resource, name, action] = parts.slice(2);
  if (req.method === "GET" && resource === "session" && !name) return send(res, 200, { scope } satisfies SessionResponse);
  if (req.method === "GET" && resource === "version" && !name) return send(res, 200, { version: FERRY_VERSION });
  if (req.method === "GET" && resource === "applications" && !name) {
    try {
      const environments = new Map(agent.engine.applications().map((a) => [a.name, a.spec.environment]));
      const query = applicationQueryOf(url.searchParams);
      const page = queryApplications(agent.statuses(), (n) => environments.get(n), query);
      // A page stays the size of the page: the list of every application's name is for unpaged lists.
      const { applications: names, ...summary } = agent.config();
      const config = query.limit === undefined ? { ...summary, applications: names } : summary;
      const list: ApplicationList = { config, applications: page.items, total: page.total, ...(page.continue !== undefined ? { continue: page.continue } : {}) };
      return send(res, 200, list);
    } catch (error) {
      if (error instanceof InvalidApplicationQuery) return send(res, 400, { error: error.message });
      throw error;
    }
  }
  if (resource === "applications" && name) {
    // Before the check below: an application may exist only in the configuration at that revision.
    if (req.method === "GET" && action === "diff" && url.searchParams.has("revision")) {
      return answer(res, () => diffAtRevision(agent, url.searchParams.get("revision") ?? "", name));
    }
    if (!agent.engine.applications().some((a) => a.name === name) && !agent.engine.status(name)) {
      return send(res, 404, { error: `unknown application ${JSON.stringify(name)}` });
    }
    const status = agent.status(name);
    if (req.method === "GET" && !action && status) {
      const environment = agent.engine.applications().find((a) => a.name === name)?.spec.environment;
      return send(res, 200, { ...status, ...(environment !== undefined ? { environment } : {}) } satisfies ApplicationResponse);
    }
    if (req.method === "GET" && action === "diff") {
      try {
        return send(res, 200, { diffs: (await agent.engine.diff(name)).map(toDiffView) });
      } catch (error) {
        const e = toFerryError(error);
        return send(res, 422, { error: e.message, reason: e.reason, problems: e.problems });
      }
    }
    if (req.method === "POST" && action === "sync") {
      const suspension = agent.engine.suspension(name);
      if (suspension) return send(res, 409, { error: `${name} is ${describeSuspension(suspension)}: resume it first`, reason: "Suspended" });
      return streamSync(agent, name, body ?? {}, res);
    }
    if (req.method === "POST" && action === "suspend") return answer(res, async () => ({ suspension: await agent.suspend(name, suspendRequestOf(body ?? {})) }) satisfies SuspendResponse);
    if (req.method === "POST" && action === "resume") return answer(res, async () => ({ resumed: await agent.resume(name, suspendRequestOf(body ?? {})) }) satisfies ResumeResponse);
    if (req.method === "POST" && action === "rollback") return answer(res, () => agent.rollback(name, rollbackRequestOf(body ?? {})));
    if (req.method === "POST" && action === "release") return answer(res, async () => ({ released: await agent.release(name) }));
  }
  if (req.method === "GET" && resource === "diff" && !name) {
    const revision = url.searchParams.get("revision");
    if (!revision) return send(res, 400, { error: "revision is required: GET /api/v1/diff?revision=<commit, branch or tag>" });
    return answer(res, () => diffAtRevision(agent, revision));
  }
  if (req.method === "GET" && resource === "history" && !name) {
    return answer(res, async () => (await agent.history.store()).events(historyQueryOf(paramsOf(url), new Date())));
  }
  if (req.method === "GET" && resource === "deployments" && !name) {
    return answer(res, async () => (await agent.history.store()).deployments(deploymentQueryOf(paramsOf(url), new Date())));
  }
  if (resource === "pipelines") {
    if (req.method === "GET" && !action) {
      return answer(res, async () => {
        const pipelines = await agent.pipelineViews(name);
        return name === undefined ? ({ pipelines } satisfies PipelinesResponse) : pipelines[0];
      }, 404);
    }
    if (req.method === "POST" && name && action === "promote") {
      const request = body ?? {};
      if (typeof request.to !== "string") return send(res, 400, { error: "to is required: the environment to promote into" });
      const version = typeof request.version === "string" ? request.version : undefined;
      const set = setOf(request.set);
      if (typeof set === "string") return send(res, 400, { error: set });
      return answer(res, () => agent.promote({ target: name, to: request.to as string, by: byOf(request), set, ...(version !== undefined ? { version } : {}) }));
    }
    if (req.method === "POST" && name && action === "approve") {
      const request = body ?? {};
      if (typeof request.environment !== "string") return send(res, 400, { error: "environment is required: the environment to approve" });
      return answer(res, () => agent.approve(name, request.environment as string, byOf(request)));
    }
  }
  if (req.method === "GET" && resource === "holds" && !name) {
    return answer(res, async () => {
      const held = agent.holdsNow();
      const holds = (await (await agent.history.store()).holds()).map((hold) => {
        const by = held.get(hold.application)?.by;
        return by !== undefined ? { ...hold, by } : hold;
      });
      return { holds };
    });
  }
  if (req.method === "POST" && resource === "sync" && !name) {
    return answer(res, async () => ({ applications: await agent.engine.syncAll({ prune: body?.prune === true, allowMassDelete: body?.allowMassDelete === true }) }));
  }
  if (req.method === "POST" && resource === "refresh") {
    await agent.refresh({ allowMassDelete: body?.allowMassDelete === true });
    return send(res, 200, { ok: true });
  }
  if (req.method === "GET" && resource === "events") return streamEvents(agent, url, req, res);
  return send(res, 404, { error: `no route ${req.method ?? ""} ${url.pathname}` });
}

/**
 * Sends what `work` returns; bad filters and refused requests (a revision that
 * never ran, a rejected push) are 422 with the reason, an unreachable history 503.
 */
async function answer(res: ServerResponse, work: () => Promise<unknown>, unknownStatus = 422): Promise<void> {
  try {
    send(res, 200, await work());
  } catch (error) {
    if (error instanceof InvalidHistoryParam) return send(res, 400, { error: error.message });
    if (error instanceof FerryError && error.disposition === "stalled") {
      return send(res, error.reason.startsWith("Unknown") ? unknownStatus : 422, { error: error.message, reason: error.reason });
    }
    const e = toFerryError(error);
    send(res, 503, { error: e.message, reason: e.reason });
  }
}

function paramsOf(url: URL): HistoryParams {
  const keys = ["application", "environment", "version", "outcome", "type", "revision", "since", "until", "at", "limit", "before"] as const;
  return Object.fromEntries(keys.flatMap((k) => (url.searchParams.has(k) ? [[k, url.searchParams.get(k) ?? ""]] : [])));
}

/** Who asks (`by`, default "api": the token names nobody) and why, both bounded. */
function suspendRequestOf(body: Record<string, unknown>): { by: string; reason?: string } {
  const by = typeof body.by === "string" && body.by.trim() !== "" ? body.by.trim().slice(0, 200) : "api";
  return { by, ...(typeof body.reason === "string" && body.reason.trim() !== "" ? { reason: body.reason.trim().slice(0, 1000) } : {}) };
}

function rollbackRequestOf(body: Record<string, unknown>): RollbackRequest {
  const author = body.author as { name?: unknown; email?: unknown; committer?: { name?: unknown; email?: unknown } } | undefined;
  const committer = author?.committer;
  const committerOf = committer && typeof committer.name === "string" && typeof committer.email === "string" ? { committer: { name: committer.name, email: committer.email } } : {};
  return {
    ...(typeof body.to === "string" ? { to: body.to } : {}),
    ...(typeof body.reason === "string" ? { reason: body.reason.slice(0, 1000) } : {}),
    ...(author && typeof author.name === "string" && typeof author.email === "string" ? { author: { name: author.name, email: author.email, ...committerOf } } : {}),
  };
}

/** The `set` of a promote request: field names to string values; a message when it is something else. */
function setOf(value: unknown): Record<string, string> | string {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "set must be an object of field names to values";
  const entries = Object.entries(value as Record<string, unknown>);
  const bad = entries.find(([field, v]) => typeof v !== "string" || !/^[A-Za-z0-9][-A-Za-z0-9_.]*$/.test(field));
  if (bad) return `set.${bad[0]}: a field name (letters, digits, -, _, .) with a string value`;
  return Object.fromEntries(entries) as Record<string, string>;
}

/** Who asks for a promotion or an approval, as the CLI says (its git identity or login name). */
function byOf(body: Record<string, unknown>): string {
  return typeof body.by === "string" && body.by.trim() !== "" ? body.by.trim().slice(0, 200) : "the control API";
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

/** Every type of engine event, for `/api/v1/events?type=` (a Record, so a new type must be listed here). */
const EVENT_TYPES: Readonly<Record<EngineEvent["type"], true>> = {
  Progress: true,
  SyncStarted: true,
  SyncFinished: true,
  DriftDetected: true,
  DriftCorrected: true,
  StatusChanged: true,
  ConfigRejected: true,
  RevisionRefused: true,
  ConfigLoaded: true,
  ApplicationRemoved: true,
};

/**
 * The live event stream, filtered on the server per client:
 * `?application=a&application=b` (or `a,b`) keeps those applications' events,
 * `?type=StatusChanged,SyncFinished` those types. An unknown type is a 400.
 */
function streamEvents(agent: Agent, url: URL, req: IncomingMessage, res: ServerResponse): void {
  const listOf = (key: string): string[] => url.searchParams.getAll(key).flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
  const applications = new Set(listOf("application"));
  const types = listOf("type");
  const unknown = types.filter((t) => !Object.hasOwn(EVENT_TYPES, t));
  if (unknown.length > 0) return send(res, 400, { error: `unknown event type ${JSON.stringify(unknown[0])}: use ${Object.keys(EVENT_TYPES).join(", ")}` });
  const typeSet = new Set(types);
  const wanted = (event: EngineEvent): boolean =>
    (typeSet.size === 0 || typeSet.has(event.type)) && (applications.size === 0 || ("application" in event && applications.has(event.application)));
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  res.write(": connected\n\n");
  const unsubscribe = agent.engine.subscribe((event) => {
    if (wanted(event)) res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  });
  req.on("close", unsubscribe);
}

/**
 * A webhook: no bearer token, the provider's signature instead. Answers 404
 * for an unknown provider, 503 when no secret is configured, 401 for a bad
 * signature, 409 for a replayed delivery, 413 for an oversized body, 400 for a
 * malformed payload, 202 with what was refreshed for a push (for `registry`,
 * the pipelines whose watcher checks now). Every refusal is
 * logged; only a verified push triggers anything.
 */
async function receiveWebhook(agent: Agent, provider: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const from = req.socket.remoteAddress ?? "unknown";
  const refuse = (status: number, reason: string): void => {
    agent.metrics.webhook(provider, String(status));
    console.error(`webhook ${provider} from ${from} refused (${status}): ${reason}`);
    send(res, status, { error: reason });
  };
  if (req.method !== "POST") return refuse(405, "webhooks are POST requests");
  const registry = provider === "registry";
  if (!registry && !WEBHOOK_PROVIDERS.includes(provider as WebhookProvider)) return refuse(404, `no webhook receiver ${JSON.stringify(provider)}: use ${[...WEBHOOK_PROVIDERS, "registry"].join(", ")}`);
  const secret = agent.options.webhookSecret;
  if (!secret) return refuse(503, "webhooks are not configured: start the agent with --webhook-secret-file or $FERRY_WEBHOOK_SECRET");
  const body = await readRaw(req, MAX_WEBHOOK_BODY);
  if (body === null) return refuse(413, `request body larger than ${MAX_WEBHOOK_BODY} bytes`);
  if (registry) {
    const notice = verifyRegistryWebhook(req.headers, body, secret, new Date());
    if (notice.kind === "rejected") return refuse(notice.status, notice.reason);
    if (!agent.webhookDeliveries.firstTime(notice.delivery)) return refuse(409, "delivery already received (replayed)");
    const pipelines = agent.onRegistryPush(notice.artifacts);
    agent.metrics.webhook(provider, "202");
    return send(res, 202, { pipelines } satisfies RegistryWebhookResponse);
  }
  const verdict = verifyWebhook(provider as WebhookProvider, req.headers, body, secret, new Date());
  if (verdict.kind === "rejected") return refuse(verdict.status, verdict.reason);
  if (verdict.delivery !== undefined && !agent.webhookDeliveries.firstTime(verdict.delivery)) return refuse(409, "delivery already received (replayed)");
  if (verdict.kind === "ignored") {
    agent.metrics.webhook(provider, String(verdict.status));
    return send(res, verdict.status, { ignored: verdict.reason });
  }
  const { sources, applications } = await agent.onPush(verdict.push);
  agent.metrics.webhook(provider, "202");
  send(res, 202, { refreshed: sources, applications } satisfies WebhookResponse);
}

/**
 * The body, or null when it is larger than `limit`. An oversized body is read
 * on and dropped (up to a bound, then the connection is cut), so the client
 * gets its 413 instead of a reset connection.
 */
async function readRaw(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit * 8) {
      req.destroy();
      return null;
    }
    if (size <= limit) chunks.push(chunk as Buffer);
  }
  return size > limit ? null : Buffer.concat(chunks);
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown> | null> {
  const raw = await readRaw(req, MAX_BODY);
  if (raw === null) return null;
  if (raw.length === 0) return {};
  try {
    const value: unknown = JSON.parse(raw.toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The scope the Authorization header grants, compared in constant time; undefined for none. */
function scopeOf(header: string | undefined, tokens: Tokens): "admin" | "read" | undefined {
  const given = Buffer.from(header ?? "");
  const matches = (expected: Buffer): boolean => given.length === expected.length && timingSafeEqual(given, expected);
  if (matches(tokens.admin)) return "admin";
  if (matches(tokens.read)) return "read";
  return undefined;
}

function sendMetrics(agent: Agent, res: ServerResponse): void {
  res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
  res.end(agent.metricsText());
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
