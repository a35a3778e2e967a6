import { existsSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { parseDuration } from "../../config/duration.js";
import type { KubeClientOptions, KubeConfigSource } from "./kube-client.js";
import { DEFAULT_KUBE_TIMEOUTS } from "./kube-client.js";
import { KUBERNETES_TARGET } from "./kubernetes-validator.js";

/** How the agent finds its clusters. */
export interface ClusterOptions {
  /** Kubeconfig file; default `$KUBECONFIG`, else `~/.kube/config`, else the cluster the agent runs in. */
  readonly kubeconfig?: string;
  /** Context of the default cluster (`target: kubernetes` without `cluster`); default the kubeconfig's current context. */
  readonly context?: string;
  /** How long a request to each cluster may take (`--kube-timeout`), parsed by parseKubeTimeouts. */
  readonly timeouts?: KubeTimeouts;
}

/** Request timeouts: one for every cluster, and others by context. */
export interface KubeTimeouts {
  readonly defaultMs?: number;
  readonly byContext: ReadonlyMap<string, number>;
}

/**
 * Parses `--kube-timeout`: a comma-separated list of `<duration>` (every
 * cluster) and `<context>=<duration>` (one context), e.g. `20s,far-away=2m`.
 * Throws naming the bad entry.
 */
export function parseKubeTimeouts(text: string): KubeTimeouts {
  let defaultMs: number | undefined;
  const byContext = new Map<string, number>();
  for (const entry of text.split(",").map((e) => e.trim()).filter((e) => e !== "")) {
    const at = entry.lastIndexOf("=");
    const context = at >= 0 ? entry.slice(0, at) : undefined;
    const value = at >= 0 ? entry.slice(at + 1) : entry;
    const ms = parseDuration(value);
    if (ms === undefined || ms < 1000) throw new Error(`--kube-timeout: ${JSON.stringify(entry)} is not [<context>=]<duration> of at least 1s (e.g. 20s or prod=1m)`);
    if (context === undefined) defaultMs = ms;
    else if (context === "") throw new Error(`--kube-timeout: ${JSON.stringify(entry)} names no context`);
    else byContext.set(context, ms);
  }
  return { ...(defaultMs !== undefined ? { defaultMs } : {}), byContext };
}

/** The client options of a context: its request timeout, and a connect timeout no longer than that. */
export function clientOptionsFor(timeouts: KubeTimeouts | undefined, context: string | undefined): KubeClientOptions {
  const requestTimeoutMs = (context !== undefined ? timeouts?.byContext.get(context) : undefined) ?? timeouts?.defaultMs;
  if (requestTimeoutMs === undefined) return {};
  return { requestTimeoutMs, connectTimeoutMs: Math.min(DEFAULT_KUBE_TIMEOUTS.connectTimeoutMs, requestTimeoutMs) };
}

/** One cluster the agent can apply to, by the target name Applications reach it under. */
export interface ClusterConfig {
  /** `kubernetes` for the default cluster, `kubernetes@<context>` for each context. */
  readonly targetName: string;
  readonly source: KubeConfigSource;
  /** Its timeouts. */
  readonly client: KubeClientOptions;
}

/**
 * The clusters of an agent: every context of the kubeconfig (`kubernetes@<context>`)
 * plus the default one (`kubernetes`): the chosen or current context, or, with
 * no kubeconfig, the cluster the agent runs in (its service account). Empty
 * when there is neither. `$KUBECONFIG` may list several files, merged as
 * kubectl merges them: the first file that names a context, cluster or user
 * wins, and the current context is the first one set. Throws when a named
 * file or context does not exist.
 */
export function loadClusters(options: ClusterOptions = {}, env: NodeJS.ProcessEnv = process.env): ClusterConfig[] {
  if (options.kubeconfig !== undefined && !existsSync(options.kubeconfig)) throw new Error(`--kubeconfig: no such file ${options.kubeconfig}`);
  const files = options.kubeconfig !== undefined ? [options.kubeconfig] : existing(env.KUBECONFIG?.split(path.delimiter) ?? [path.join(homedir(), ".kube", "config")]);
  if (files.length === 0) {
    if (options.context !== undefined) throw new Error(`--context ${options.context}: no kubeconfig found (set --kubeconfig or $KUBECONFIG)`);
    if (!env.KUBERNETES_SERVICE_HOST) return [];
    return [{ targetName: KUBERNETES_TARGET, source: { inCluster: true }, client: clientOptionsFor(options.timeouts, undefined) }];
  }
  const read = files.map(contextsOf);
  const contexts = [...new Set(read.flatMap((r) => r.contexts))];
  const current = options.context ?? read.find((r) => r.current !== undefined)?.current;
  for (const named of options.timeouts?.byContext.keys() ?? []) {
    if (!contexts.includes(named)) throw new Error(`--kube-timeout: ${files.join(path.delimiter)} has no context ${JSON.stringify(named)} (it has: ${contexts.join(", ") || "none"})`);
  }
  if (options.context !== undefined && !contexts.includes(options.context)) {
    throw new Error(`--context: ${files.join(path.delimiter)} has no context ${JSON.stringify(options.context)} (it has: ${contexts.join(", ") || "none"})`);
  }
  const out: ClusterConfig[] = [];
  if (current && contexts.includes(current)) out.push({ targetName: KUBERNETES_TARGET, source: { files, context: current }, client: clientOptionsFor(options.timeouts, current) });
  for (const context of contexts) out.push({ targetName: `${KUBERNETES_TARGET}@${context}`, source: { files, context }, client: clientOptionsFor(options.timeouts, context) });
  return out;
}

/** The context names and current context of a kubeconfig file, read as YAML (credentials are left to the client). */
function contextsOf(file: string): { contexts: string[]; current: string | undefined } {
  let document: unknown;
  try {
    document = parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(`kubeconfig ${file}: ${(error as Error).message}`, { cause: error });
  }
  const doc = typeof document === "object" && document !== null ? (document as Record<string, unknown>) : {};
  const list = Array.isArray(doc.contexts) ? (doc.contexts as unknown[]) : [];
  const contexts = list.flatMap((c) => (typeof c === "object" && c !== null && typeof (c as { name?: unknown }).name === "string" ? [(c as { name: string }).name] : []));
  const current = typeof doc["current-context"] === "string" && doc["current-context"] !== "" ? doc["current-context"] : undefined;
  return { contexts, current };
}

/** The files that exist, in order, each once. */
function existing(files: readonly string[]): string[] {
  return [...new Set(files.filter((f) => f !== "" && existsSync(f)))];
}
