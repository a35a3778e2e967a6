import http from "node:http";
import https from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";
import type { JsonObject, JsonValue } from "../../core/json.js";
import { isJsonObject } from "../../core/json.js";

/**
 * Where a client finds its cluster and credentials: a kubeconfig file and
 * context (default: its current context), or the service account of the pod
 * it runs in.
 */
/** Where a client's cluster and credentials come from: kubeconfig files (merged, the first naming a thing wins) and a context, or the pod the agent runs in. */
export type KubeConfigSource = { readonly files: readonly string[]; readonly context?: string } | { readonly inCluster: true };

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
}

/** Counts of what the client sent, for benchmarks and tests. */
export interface ClientStats {
  calls: number;
  /** Requests that may change state (PATCH without dryRun, POST, PUT, DELETE). */
  writes: number;
}

/**
 * A small client of the Kubernetes REST API over one keep-alive connection
 * pool. Credentials, certificates and the server address come from a
 * `KubeConfig` of @kubernetes/client-node (kubeconfig contexts, exec and
 * token auth, in-cluster service accounts). Bodies stay plain JSON, so
 * nothing the server returns is lost or converted on the way.
 */
export class KubeClient {
  readonly stats: ClientStats = { calls: 0, writes: 0 };
  readonly #source: KubeConfigSource;
  #loaded: Promise<{ readonly config: KubeConfig; readonly server: string }> | undefined;
  readonly #discovery = new Map<string, Promise<readonly ResourceType[] | undefined>>();
  #agent: http.Agent | undefined;

  /** Nothing is read or loaded until the first request: an agent without Kubernetes applications never pays for the client library. */
  constructor(source: KubeConfigSource) {
    this.#source = source;
  }

  /** Loads @kubernetes/client-node and the kubeconfig on first use. */
  #load(): Promise<{ readonly config: KubeConfig; readonly server: string }> {
    this.#loaded ??= (async () => {
      const { KubeConfig: Config } = await import("@kubernetes/client-node");
      const config = new Config();
      if ("inCluster" in this.#source) config.loadFromCluster();
      else {
        loadMerged(config, this.#source.files, Config);
        if (this.#source.context !== undefined) config.setCurrentContext(this.#source.context);
      }
      const cluster = config.getCurrentCluster();
      if (!cluster) throw new Error(`kubeconfig context ${JSON.stringify(config.getCurrentContext())} names no cluster`);
      const server = cluster.server.replace(/\/+$/, "");
      if (server.startsWith("http:")) {
        // client-node refuses plain HTTP unless TLS checks are off; there is no TLS to check (kubectl agrees).
        config.clusters = config.clusters.map((c) => (c.name === cluster.name ? { ...c, skipTLSVerify: true } : c));
      }
      return { config, server };
    })();
    return this.#loaded;
  }

  /** Sends one request and parses the JSON answer; network failures throw. */
  async request(request: KubeRequest): Promise<KubeResponse> {
    const res = await this.#send(request);
    const text = await readBody(res);
    return { status: res.statusCode ?? 0, body: parseJson(text) };
  }

  /**
   * Opens a watch (`?watch=true`) and calls `onEvent` for each event line until
   * the server closes the stream or `signal` aborts. Resolves when it ends.
   */
  async watch(path: string, query: Readonly<Record<string, string | undefined>>, onEvent: (event: JsonObject) => void, signal: AbortSignal): Promise<void> {
    const res = await this.#send({ method: "GET", path, query: { ...query, watch: "true" } }, signal);
    if ((res.statusCode ?? 0) >= 300) {
      const body = parseJson(await readBody(res));
      throw new Error(`watch ${path} answered ${res.statusCode}: ${statusMessage(body)}`);
    }
    let buffered = "";
    await new Promise<void>((resolve, reject) => {
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
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
      res.on("close", () => resolve());
      res.on("error", (error) => (signal.aborted ? resolve() : reject(error)));
    });
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
    if (res.status >= 300) throw new Error(`discovery of ${apiVersion} answered ${res.status}: ${statusMessage(res.body)}`);
    const resources = isJsonObject(res.body) && Array.isArray(res.body.resources) ? res.body.resources : [];
    return resources.flatMap((r) => {
      if (!isJsonObject(r) || typeof r.name !== "string" || typeof r.kind !== "string" || r.name.includes("/")) return [];
      return [{ apiVersion, kind: r.kind, plural: r.name, namespaced: r.namespaced === true }];
    });
  }

  async #send(request: KubeRequest, signal?: AbortSignal): Promise<http.IncomingMessage> {
    this.stats.calls += 1;
    const dryRun = request.query?.dryRun !== undefined;
    if (request.method !== "GET" && !dryRun) this.stats.writes += 1;
    const { config, server } = await this.#load();
    const url = new URL(server + request.path);
    for (const [k, v] of Object.entries(request.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const options: https.RequestOptions = { method: request.method, headers: {} };
    await config.applyToHTTPSOptions(options);
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    const headers: http.OutgoingHttpHeaders = {
      ...(options.headers as http.OutgoingHttpHeaders),
      accept: "application/json",
      ...(body !== undefined ? { "content-type": request.contentType ?? "application/json", "content-length": Buffer.byteLength(body) } : {}),
    };
    const secure = url.protocol === "https:";
    this.#agent ??= secure
      ? new https.Agent({
          keepAlive: true,
          maxSockets: 32,
          ...pick(options, ["ca", "cert", "key", "pfx", "passphrase", "rejectUnauthorized", "servername"]),
        })
      : new http.Agent({ keepAlive: true, maxSockets: 32 });
    const send = secure ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const req = send(url, { method: request.method, headers, agent: this.#agent, ...(options.auth ? { auth: options.auth } : {}), ...(signal ? { signal } : {}) }, resolve);
      req.on("error", reject);
      req.end(body);
    });
  }
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

function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (c: Buffer) => chunks.push(c));
    res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    res.on("error", reject);
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

/**
 * Loads kubeconfig files into `config` as kubectl merges them: a context,
 * cluster or user named in an earlier file is kept over a later one, and the
 * current context is the first file's that sets one. (The client's own merge
 * refuses a name seen twice.)
 */
function loadMerged(config: KubeConfig, files: readonly string[], Config: new () => KubeConfig): void {
  const [first, ...rest] = files;
  if (first === undefined) throw new Error("no kubeconfig file to load");
  config.loadFromFile(first);
  if (rest.length === 0) return;
  const clusters = [...config.clusters];
  const users = [...config.users];
  const contexts = [...config.contexts];
  let currentContext = config.currentContext;
  for (const file of rest) {
    const next = new Config();
    next.loadFromFile(file);
    const add = <T extends { readonly name: string }>(into: T[], from: readonly T[]): void => {
      for (const item of from) if (!into.some((known) => known.name === item.name)) into.push(item);
    };
    add(clusters, next.clusters);
    add(users, next.users);
    add(contexts, next.contexts);
    if (!currentContext && next.currentContext) currentContext = next.currentContext;
  }
  config.loadFromOptions({ clusters, users, contexts, currentContext });
}
