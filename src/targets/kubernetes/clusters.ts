import { existsSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import type { KubeConfigSource } from "./kube-client.js";
import { KUBERNETES_TARGET } from "./kubernetes-validator.js";

/** How the agent finds its clusters. */
export interface ClusterOptions {
  /** Kubeconfig file; default `$KUBECONFIG`, else `~/.kube/config`, else the cluster the agent runs in. */
  readonly kubeconfig?: string;
  /** Context of the default cluster (`target: kubernetes` without `cluster`); default the kubeconfig's current context. */
  readonly context?: string;
}

/** One cluster the agent can apply to, by the target name Applications reach it under. */
export interface ClusterConfig {
  /** `kubernetes` for the default cluster, `kubernetes@<context>` for each context. */
  readonly targetName: string;
  readonly source: KubeConfigSource;
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
    if (options.context !== undefined) throw new Error(`--kube-context ${options.context}: no kubeconfig found (set --kubeconfig or $KUBECONFIG)`);
    if (!env.KUBERNETES_SERVICE_HOST) return [];
    return [{ targetName: KUBERNETES_TARGET, source: { inCluster: true } }];
  }
  const read = files.map(contextsOf);
  const contexts = [...new Set(read.flatMap((r) => r.contexts))];
  const current = options.context ?? read.find((r) => r.current !== undefined)?.current;
  if (options.context !== undefined && !contexts.includes(options.context)) {
    throw new Error(`--kube-context: ${files.join(path.delimiter)} has no context ${JSON.stringify(options.context)} (it has: ${contexts.join(", ") || "none"})`);
  }
  const out: ClusterConfig[] = [];
  if (current && contexts.includes(current)) out.push({ targetName: KUBERNETES_TARGET, source: { files, context: current } });
  for (const context of contexts) out.push({ targetName: `${KUBERNETES_TARGET}@${context}`, source: { files, context } });
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
