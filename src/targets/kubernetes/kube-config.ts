import { statSync } from "node:fs";
import type { KubeConfig } from "@kubernetes/client-node";

/** Where a client's cluster and credentials come from: kubeconfig files (merged, the first naming a thing wins) and a context, or the pod the agent runs in. */
export type KubeConfigSource = { readonly files: readonly string[]; readonly context?: string } | { readonly inCluster: true };

/** A loaded kubeconfig: the client library's config, the API server's address and the proxy to reach it through. */
export interface LoadedConfig {
  readonly config: KubeConfig;
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

/** Loads @kubernetes/client-node and the kubeconfig (files merged as kubectl merges them). */
export async function loadConfig(source: KubeConfigSource): Promise<LoadedConfig> {
  const stamp = stampOf(source);
  const { KubeConfig: Config } = await import("@kubernetes/client-node");
  const config = new Config();
  if ("inCluster" in source) config.loadFromCluster();
  else {
    loadMerged(config, source.files, Config);
    if (source.context !== undefined) config.setCurrentContext(source.context);
  }
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new Error(`kubeconfig context ${JSON.stringify(config.getCurrentContext())} names no cluster`);
  const server = cluster.server.replace(/\/+$/, "");
  if (server.startsWith("http:")) {
    // client-node refuses plain HTTP unless TLS checks are off; there is no TLS to check (kubectl agrees).
    config.clusters = config.clusters.map((c) => (c.name === cluster.name ? { ...c, skipTLSVerify: true } : c));
  }
  return { config, server, ...(cluster.proxyUrl ? { proxyUrl: cluster.proxyUrl } : {}), stamp };
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
