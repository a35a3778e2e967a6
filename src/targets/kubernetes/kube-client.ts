import http from "node:http";
import https from "node:https";
import type { FerryError } from "../../core/errors.js";
import { transient } from "../../core/errors.js";
import type { JsonObject, JsonValue } from "../../core/json.js";
import { isJsonObject } from "../../core/json.js";
import type { KubeConfigSource, LoadedConfig } from "./kube-config.js";
import { describeSource, loadConfig, stampOf } from "./kube-config.js";
import { proxyAgent } from "./proxy-tunnel.js";

export type { KubeConfigSource } from "./kube-config.js";

/** How long the client waits on its cluster. */
export interface KubeClientOptions {
  /** A connection (TCP and TLS) must be up within this (default 10 s). */
  readonly connectTimeoutMs?: number;
  /** A request must be answered in full within this (default 30 s); a watch's headers too. */
  readonly requestTimeoutMs?: number;
  /** A watch that sends nothing (no event, no bookmark) for this long is taken for dead and opened again (default 90 s). */
  readonly watchIdleMs?: number;
  /** How often, at most, the kubeconfig files are checked for a change (default 1 s). */
  readonly reloadCheckMs?: number;
}

/** The timeouts a client uses when none are given. */
export const DEFAULT_KUBE_TIMEOUTS = { connectTimeoutMs: 10_000, requestTimeoutMs: 30_000, watchIdleMs: 90_000 } as const;

/** One request to the API server. `path` starts with `/api` or `/apis`. */
export interface KubeRequest {
  readonly method: "GET" | "PATCH" | "DELETE" | "POST" | "PUT";
  readonly path: string;
  readonly query?: Readonly<Record<string, string | undefined>>;
  readonly body?: JsonValue;
  /** Default `application/json`; server-side apply sends `application/apply-patch+yaml` (JSON is valid YAML). */
  readonly contentType?: string;
}

/** The answer: status code and the parsed JSON body (a Status object on errors). */
export interface KubeResponse {
  readonly status: number;
  readonly body: JsonValue | undefined;
}

/** Where a resource type lives in the API, from discovery. */
export interface ResourceType {
  readonly apiVersion: string;
  readonly kind: string;
  /** Plural resource name in the URL (`deployments`). */
  readonly plural: string;
  readonly namespaced: boolean;
  /** The server lists it (discovery's verbs include `list`). */
  readonly listable?: boolean;
}

/** Counts of what the client sent, for benchmarks and tests. */
export interface ClientStats {
  calls: number;
  /** Requests that may change state (PATCH without dryRun, POST, PUT, DELETE). */
  writes: number;
}

/**
 * A small client of the Kubernetes REST API over one keep-alive connection
 * pool. Credentials, certificates, the server address and its proxy come
 * from a `KubeConfig` of @kubernetes/client-node (kubeconfig contexts, exec
 * and token auth, in-cluster service accounts), read again when a kubeconfig
 * file changes (rotated certificates and tokens). Every request has a connect
 * and a total timeout; a failure names the context, server, verb and path.
 * Bodies stay plain JSON, so nothing the server returns is lost or converted.
 */
export class KubeClient {
  readonly stats: ClientStats = { calls: 0, writes: 0 };
  readonly #source: KubeConfigSource;
  readonly #timeouts: Required<KubeClientOptions>;
  #loaded: Promise<LoadedConfig> | undefined;
  #checkedAt = 0;
  readonly #discovery = new Map<string, Promise<readonly ResourceType[] | undefined>>();
  #agent: http.Agent | undefined;
  #server: string | undefined;

  /** Nothing is read or loaded until the first request: an agent without Kubernetes applications never pays for the client library. */
  constructor(source: KubeConfigSource, options: KubeClientOptions = {}) {
    this.#source = source;
    this.#timeouts = { ...DEFAULT_KUBE_TIMEOUTS, reloadCheckMs: 1000, ...options };
  }

  /** The cluster as errors name it: `context "prod" (server https://10.0.0.1:6443)`. */
  get cluster(): string {
    return describeSource(this.#source, this.#server);
  }

  /** The timeouts in use. */
  get timeouts(): Readonly<Required<KubeClientOptions>> {
    return this.#timeouts;
  }

  /** Loads the kubeconfig on first use, and again when one of its files changed since (or the last load failed). */
  #load(): Promise<LoadedConfig> {
    const now = Date.now();
    const previous = this.#loaded;
    if (previous && now - this.#checkedAt < this.#timeouts.reloadCheckMs) return previous;
    this.#checkedAt = now;
    const loading = (previous ?? Promise.reject(new Error("not loaded")))
      .then((config) => (config.stamp === stampOf(this.#source) ? config : undefined))
      .catch(() => undefined)
      .then(async (config) => {
        if (config) return config;
        // New credentials or certificates: new connections, since a pooled one keeps the old TLS identity.
        this.#agent?.destroy();
        this.#agent = undefined;
        const fresh = await loadConfig(this.#source);
        this.#server = fresh.server;
        return fresh;
      });
    this.#loaded = loading;
    return loading;
  }

  /** Sends one request and parses the JSON answer; a network failure or timeout throws a transient error naming the cluster. */
  async request(request: KubeRequest): Promise<KubeResponse> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.#timeouts.requestTimeoutMs);
    try {
      const res = await this.#send(request, controller.signal);
      const text = await readBody(res, controller.signal);
      return { status: res.statusCode ?? 0, body: parseJson(text) };
    } catch (error) {
      throw this.#failure(request, error, controller.signal.aborted ? this.#timeouts.requestTimeoutMs : undefined);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Opens a watch (`?watch=true`) and calls `onEvent` for each event line until
   * the server closes the stream or `signal` aborts. Resolves when it ends;
   * rejects when the stream stays silent longer than `watchIdleMs` (a
   * connection that died without closing) or breaks.
   */
  async watch(path: string, query: Readonly<Record<string, string | undefined>>, onEvent: (event: JsonObject) => void, signal: AbortSignal): Promise<void> {
    const request: KubeRequest = { method: "GET", path, query: { ...query, watch: "true" } };
    const controller = new AbortController();
    const stop = (): void => controller.abort();
    signal.addEventListener("abort", stop, { once: true });
    let idle = setTimeout(stop, this.#timeouts.requestTimeoutMs);
    let silent = false;
    try {
      const res = await this.#send(request, controller.signal);
      if ((res.statusCode ?? 0) >= 300) {
        const body = parseJson(await readBody(res, controller.signal));
        throw new Error(`answered ${res.statusCode}: ${statusMessage(body)}`);
      }
      const armIdle = (): void => {
        clearTimeout(idle);
        idle = setTimeout(() => {
          silent = true;
          res.destroy(new Error(`silent for ${seconds(this.#timeouts.watchIdleMs)}`));
        }, this.#timeouts.watchIdleMs);
      };
      armIdle();
      let buffered = "";
      await new Promise<void>((resolve, reject) => {
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          armIdle();
          buffered += chunk;
          let newline;
          while ((newline = buffered.indexOf("\n")) >= 0) {
            const line = buffered.slice(0, newline).trim();
            buffered = buffered.slice(newline + 1);
            const event = line ? parseJson(line) : undefined;
            if (isJsonObject(event)) onEvent(event);
          }
        });
        res.on("end", () => resolve());
        res.on("close", () => (silent ? reject(new Error(`silent for ${seconds(this.#timeouts.watchIdleMs)}`)) : resolve()));
        res.on("error", (error) => (signal.aborted ? resolve() : reject(error)));
      });
    } catch (error) {
      if (signal.aborted) return;
      throw this.#failure(request, error, silent ? undefined : controller.signal.aborted ? this.#timeouts.requestTimeoutMs : undefined);
    } finally {
      clearTimeout(idle);
      signal.removeEventListener("abort", stop);
    }
  }

  /** The resource type of an apiVersion and kind from discovery (cached); undefined when the server has none. */
  async resourceType(apiVersion: string, kind: string): Promise<ResourceType | undefined> {
    let types = await this.#typesOf(apiVersion);
    let found = types?.find((t) => t.kind === kind);
    if (!found) {
      // A CRD applied a moment ago: ask again once.
      this.#discovery.delete(apiVersion);
      types = await this.#typesOf(apiVersion);
      found = types?.find((t) => t.kind === kind);
    }
    return found;
  }

  /** Every resource type the server serves, from discovery of all its groups (not cached: asked rarely, e.g. before deleting a Namespace). */
  async allResourceTypes(): Promise<ResourceType[]> {
    const versions: string[] = [];
    const core = await this.request({ method: "GET", path: "/api" });
    if (isJsonObject(core.body) && Array.isArray(core.body.versions)) for (const v of core.body.versions) if (typeof v === "string") versions.push(v);
    const groups = await this.request({ method: "GET", path: "/apis" });
    const list = isJsonObject(groups.body) && Array.isArray(groups.body.groups) ? groups.body.groups : [];
    for (const group of list) {
      const preferred = isJsonObject(group) && isJsonObject(group.preferredVersion) ? group.preferredVersion.groupVersion : undefined;
      if (typeof preferred === "string") versions.push(preferred);
    }
    const out: ResourceType[] = [];
    for (const apiVersion of versions) out.push(...((await this.#typesOf(apiVersion)) ?? []));
    return out;
  }

  /** URL path of a resource type, or of one object of it. */
  static pathOf(type: ResourceType, namespace?: string, name?: string): string {
    const base = type.apiVersion.includes("/") ? `/apis/${type.apiVersion}` : `/api/${type.apiVersion}`;
    const ns = type.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
    return `${base}${ns}/${type.plural}${name !== undefined ? `/${encodeURIComponent(name)}` : ""}`;
  }

  /** Closes idle connections. */
  close(): void {
    this.#agent?.destroy();
  }

  #typesOf(apiVersion: string): Promise<readonly ResourceType[] | undefined> {
    let pending = this.#discovery.get(apiVersion);
    if (!pending) {
      pending = this.#discover(apiVersion);
      this.#discovery.set(apiVersion, pending);
      // A failed lookup must be retried by the next caller.
      pending.catch(() => this.#discovery.delete(apiVersion));
    }
    return pending;
  }

  async #discover(apiVersion: string): Promise<readonly ResourceType[] | undefined> {
    const path = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const res = await this.request({ method: "GET", path });
    if (res.status === 404) return undefined;
    if (res.status >= 300) throw transient("ApiServerError", `${this.cluster}: discovery of ${apiVersion} answered ${res.status}: ${statusMessage(res.body)}`);
    const resources = isJsonObject(res.body) && Array.isArray(res.body.resources) ? res.body.resources : [];
    return resources.flatMap((r) => {
      if (!isJsonObject(r) || typeof r.name !== "string" || typeof r.kind !== "string" || r.name.includes("/")) return [];
      const listable = Array.isArray(r.verbs) && r.verbs.includes("list");
      return [{ apiVersion, kind: r.kind, plural: r.name, namespaced: r.namespaced === true, ...(listable ? { listable } : {}) }];
    });
  }

  /** A failed request as the engine handles it: transient, naming the cluster, the verb and the path, with the cause kept. */
  #failure(request: KubeRequest, error: unknown, timedOutAfterMs: number | undefined): FerryError {
    const what = `${request.method} ${request.path}`;
    if (timedOutAfterMs !== undefined) {
      return transient("ClusterTimeout", `${this.cluster}: ${what} got no answer within ${seconds(timedOutAfterMs)}`, { cause: error });
    }
    const cause = error as NodeJS.ErrnoException;
    const text = `${cause.code && !cause.message.includes(cause.code) ? `${cause.code} ` : ""}${cause.message ?? String(error)}`;
    return transient("ClusterUnreachable", `${this.cluster}: ${what} failed: ${text}`, { cause: error });
  }

  async #send(request: KubeRequest, signal: AbortSignal): Promise<http.IncomingMessage> {
    this.stats.calls += 1;
    const dryRun = request.query?.dryRun !== undefined;
    if (request.method !== "GET" && !dryRun) this.stats.writes += 1;
    const { applyTo, server, proxyUrl } = await this.#load();
    this.#server = server;
    const url = new URL(server + request.path);
    for (const [k, v] of Object.entries(request.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const options: https.RequestOptions = { method: request.method, headers: {} };
    await applyTo(options);
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    const headers: http.OutgoingHttpHeaders = {
      ...(options.headers as http.OutgoingHttpHeaders),
      accept: "application/json",
      ...(body !== undefined ? { "content-type": request.contentType ?? "application/json", "content-length": Buffer.byteLength(body) } : {}),
    };
    const secure = url.protocol === "https:";
    if (!this.#agent) {
      const tlsOptions = pick(options, ["ca", "cert", "key", "pfx", "passphrase", "rejectUnauthorized", "servername"]);
      if (proxyUrl) this.#agent = proxyAgent(proxyUrl, secure, tlsOptions);
      else this.#agent = secure ? new https.Agent({ keepAlive: true, maxSockets: 32, ...tlsOptions }) : new http.Agent({ keepAlive: true, maxSockets: 32 });
    }
    const send = secure ? https.request : http.request;
    const connectTimeoutMs = this.#timeouts.connectTimeoutMs;
    return new Promise((resolve, reject) => {
      const req = send(url, { method: request.method, headers, agent: this.#agent, signal, ...(options.auth ? { auth: options.auth } : {}) }, resolve);
      req.on("error", reject);
      req.on("socket", (socket) => {
        const connecting = (socket as { connecting?: boolean }).connecting === true || (socket as { pending?: boolean }).pending === true;
        if (!connecting && socket.readyState !== "opening") return;
        const timer = setTimeout(() => req.destroy(new Error(`no connection within ${seconds(connectTimeoutMs)}`)), connectTimeoutMs);
        const clear = (): void => clearTimeout(timer);
        socket.once(secure ? "secureConnect" : "connect", clear);
        socket.once("close", clear);
        req.once("response", clear);
        req.once("error", clear);
      });
      req.end(body);
    });
  }
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}

/** The message of a Kubernetes Status body, or the body as text. */
export function statusMessage(body: JsonValue | undefined): string {
  if (isJsonObject(body) && typeof body.message === "string") return body.message;
  return body === undefined ? "(no body)" : JSON.stringify(body).slice(0, 300);
}

function pick(options: https.RequestOptions, keys: readonly (keyof https.RequestOptions)[]): https.AgentOptions {
  const out: Record<string, unknown> = {};
  for (const key of keys) if (options[key] !== undefined) out[key] = options[key];
  return out as https.AgentOptions;
}

function readBody(res: http.IncomingMessage, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const abort = (): void => {
      res.destroy();
      reject(new Error("aborted"));
    };
    if (signal.aborted) return abort();
    signal.addEventListener("abort", abort, { once: true });
    res.on("data", (c: Buffer) => chunks.push(c));
    res.on("end", () => {
      signal.removeEventListener("abort", abort);
      resolve(Buffer.concat(chunks).toString("utf8"));
    });
    res.on("error", (error) => {
      signal.removeEventListener("abort", abort);
      reject(error);
    });
  });
}

function parseJson(text: string): JsonValue | undefined {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

