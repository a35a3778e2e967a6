import { readFileSync, statSync } from "node:fs";
import type https from "node:https";
import path from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { parse } from "yaml";

/** Where a client's cluster and credentials come from: kubeconfig files (merged, the first naming a thing wins) and a context, or the pod the agent runs in. */
export type KubeConfigSource = { readonly files: readonly string[]; readonly context?: string } | { readonly inCluster: true };

/** A loaded kubeconfig: the API server's address, the proxy to reach it through, and how requests carry credentials. */
export interface LoadedConfig {
  /** Adds the credentials and TLS settings of the context to a request's options. */
  readonly applyTo: (options: https.RequestOptions) => Promise<void>;
  readonly server: string;
  /** The cluster's `proxy-url`, when it has one. */
  readonly proxyUrl?: string;
  /** What the files looked like when read (size and mtime of each), to tell a changed file. */
  readonly stamp: string;
}

/** How errors name a cluster: `context "prod" (server https://10.0.0.1:6443)`. */
export function describeSource(source: KubeConfigSource, server?: string): string {
  const which = "inCluster" in source ? "the cluster the agent runs in" : source.context !== undefined ? `context ${JSON.stringify(source.context)}` : "the kubeconfig's current context";
  return server ? `${which} (server ${server})` : which;
}

/**
 * Size and mtime of every kubeconfig file: rotating an embedded certificate
 * or token rewrites the file, so a different stamp means load again. (In a
 * pod, the client library reads the service account's token file itself.)
 */
export function stampOf(source: KubeConfigSource): string {
  if ("inCluster" in source) return "";
  return source.files
    .map((file) => {
      try {
        const s = statSync(file);
        return `${file}:${s.size}:${s.mtimeMs}`;
      } catch {
        return `${file}:absent`;
      }
    })
    .join("|");
}

/** Where a pod finds its service account. */
const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/**
 * Loads the kubeconfig (files merged as kubectl merges them) or the pod's
 * service account. Tokens, client certificates, basic auth and CA files are
 * read here; only a user with an `exec` plugin or an `auth-provider` loads
 * @kubernetes/client-node, which handles them (and costs some 70 MiB of
 * memory an agent with plain credentials does not need to pay).
 */
export async function loadConfig(source: KubeConfigSource): Promise<LoadedConfig> {
  const stamp = stampOf(source);
  if ("inCluster" in source) return inClusterConfig(stamp);
  const merged = mergeFiles(source.files);
  const contextName = source.context ?? merged.currentContext;
  const context = merged.contexts.get(contextName ?? "");
  if (!context) throw new Error(`kubeconfig has no context ${JSON.stringify(contextName ?? "")}`);
  const cluster = merged.clusters.get(str(context.cluster) ?? "");
  if (!cluster) throw new Error(`kubeconfig context ${JSON.stringify(contextName)} names no cluster`);
  const user = merged.users.get(str(context.user) ?? "") ?? { entry: {}, dir: cluster.dir };
  if (user.entry.exec !== undefined || user.entry["auth-provider"] !== undefined) return loadWithClientLibrary(source, stamp);
  const server = (str(cluster.entry.server) ?? "").replace(/\/+$/, "");
  if (!server) throw new Error(`kubeconfig cluster ${JSON.stringify(str(context.cluster))} has no server`);
  const proxyUrl = str(cluster.entry["proxy-url"]);
  const fileOrData = (at: { entry: Record<string, unknown>; dir: string }, fileKey: string, dataKey: string): Buffer | undefined => {
    const data = str(at.entry[dataKey]);
    if (data) return Buffer.from(data, "base64");
    const file = str(at.entry[fileKey]);
    return file ? readFileSync(path.resolve(at.dir, file)) : undefined;
  };
  const ca = fileOrData(cluster, "certificate-authority", "certificate-authority-data");
  const cert = fileOrData(user, "client-certificate", "client-certificate-data");
  const key = fileOrData(user, "client-key", "client-key-data");
  const insecure = cluster.entry["insecure-skip-tls-verify"] === true;
  const servername = str(cluster.entry["tls-server-name"]);
  const token = str(user.entry.token);
  const tokenFile = str(user.entry.tokenFile);
  const username = str(user.entry.username);
  const password = str(user.entry.password);
  return {
    server,
    ...(proxyUrl ? { proxyUrl } : {}),
    stamp,
    applyTo: async (options) => {
      if (ca) options.ca = ca;
      if (cert) options.cert = cert;
      if (key) options.key = key;
      if (insecure) options.rejectUnauthorized = false;
      if (servername) options.servername = servername;
      const bearer = token ?? (tokenFile ? readFileSync(path.resolve(user.dir, tokenFile), "utf8").trim() : undefined);
      const headers = (options.headers ?? {}) as Record<string, string>;
      if (bearer) headers.Authorization = `Bearer ${bearer}`;
      else if (username !== undefined) options.auth = `${username}:${password ?? ""}`;
      options.headers = headers;
    },
  };
}

/** The pod's service account: its token is read again when the kubelet rotates it. */
function inClusterConfig(stamp: string): LoadedConfig {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const port = process.env.KUBERNETES_SERVICE_PORT ?? "443";
  if (!host) throw new Error("not running in a cluster: $KUBERNETES_SERVICE_HOST is not set");
  const ca = readFileSync(path.join(SERVICE_ACCOUNT_DIR, "ca.crt"));
  const tokenPath = path.join(SERVICE_ACCOUNT_DIR, "token");
  let token = { at: "", value: "" };
  return {
    server: `https://${host.includes(":") ? `[${host}]` : host}:${port}`,
    stamp,
    applyTo: async (options) => {
      const at = String(statSync(tokenPath).mtimeMs);
      if (token.at !== at) token = { at, value: readFileSync(tokenPath, "utf8").trim() };
      options.ca = ca;
      options.headers = { ...((options.headers ?? {}) as Record<string, string>), Authorization: `Bearer ${token.value}` };
    },
  };
}

/** Loads the kubeconfig through @kubernetes/client-node, for credentials only it knows how to get (exec plugins, auth providers). */
async function loadWithClientLibrary(source: { readonly files: readonly string[]; readonly context?: string }, stamp: string): Promise<LoadedConfig> {
  const { KubeConfig: Config } = await import("@kubernetes/client-node");
  const config = new Config();
  loadMerged(config, source.files, Config);
  if (source.context !== undefined) config.setCurrentContext(source.context);
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new Error(`kubeconfig context ${JSON.stringify(config.getCurrentContext())} names no cluster`);
  const server = cluster.server.replace(/\/+$/, "");
  if (server.startsWith("http:")) {
    // client-node refuses plain HTTP unless TLS checks are off; there is no TLS to check (kubectl agrees).
    config.clusters = config.clusters.map((c) => (c.name === cluster.name ? { ...c, skipTLSVerify: true } : c));
  }
  return { server, ...(cluster.proxyUrl ? { proxyUrl: cluster.proxyUrl } : {}), stamp, applyTo: (options) => config.applyToHTTPSOptions(options) };
}

interface Named {
  readonly entry: Record<string, unknown>;
  /** Directory of the file it came from: relative paths in it are relative to that. */
  readonly dir: string;
}

/** Kubeconfig files merged as kubectl merges them: the first file that names a context, cluster or user wins; the first current context set wins. */
function mergeFiles(files: readonly string[]): { contexts: Map<string, Record<string, unknown>>; clusters: Map<string, Named>; users: Map<string, Named>; currentContext?: string } {
  const contexts = new Map<string, Record<string, unknown>>();
  const clusters = new Map<string, Named>();
  const users = new Map<string, Named>();
  let currentContext: string | undefined;
  if (files.length === 0) throw new Error("no kubeconfig file to load");
  for (const file of files) {
    const doc = asRecord(parse(readFileSync(file, "utf8")));
    const dir = path.dirname(path.resolve(file));
    const add = (list: unknown, key: string, into: Map<string, Named>): void => {
      for (const item of Array.isArray(list) ? list : []) {
        const named = asRecord(item);
        const name = str(named.name);
        if (name !== undefined && !into.has(name)) into.set(name, { entry: asRecord(named[key]), dir });
      }
    };
    const found = new Map<string, Named>();
    add(doc.contexts, "context", found);
    for (const [name, context] of found) if (!contexts.has(name)) contexts.set(name, context.entry);
    add(doc.clusters, "cluster", clusters);
    add(doc.users, "user", users);
    const current = str(doc["current-context"]);
    if (currentContext === undefined && current) currentContext = current;
  }
  return { contexts, clusters, users, ...(currentContext !== undefined ? { currentContext } : {}) };
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
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
