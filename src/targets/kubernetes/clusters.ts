import { existsSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
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
  readonly config: KubeConfig;
}

/**
 * The clusters of an agent: every context of the kubeconfig (`kubernetes@<context>`)
 * plus the default one (`kubernetes`): the chosen or current context, or, with
 * no kubeconfig, the cluster the agent runs in (its service account). Empty
 * when there is neither. Throws when a named file or context does not exist.
 */
export function loadClusters(options: ClusterOptions = {}, env: NodeJS.ProcessEnv = process.env): ClusterConfig[] {
  const file = options.kubeconfig ?? firstExisting(env.KUBECONFIG?.split(path.delimiter) ?? [path.join(homedir(), ".kube", "config")]);
  if (options.kubeconfig !== undefined && !existsSync(options.kubeconfig)) throw new Error(`--kubeconfig: no such file ${options.kubeconfig}`);
  if (file === undefined) {
    if (options.context !== undefined) throw new Error(`--kube-context ${options.context}: no kubeconfig found (set --kubeconfig or $KUBECONFIG)`);
    if (!env.KUBERNETES_SERVICE_HOST) return [];
    const config = new KubeConfig();
    config.loadFromCluster();
    return [{ targetName: KUBERNETES_TARGET, config }];
  }
  const base = new KubeConfig();
  base.loadFromFile(file);
  const contexts = base.getContexts().map((c) => c.name);
  const current = options.context ?? base.getCurrentContext();
  if (options.context !== undefined && !contexts.includes(options.context)) {
    throw new Error(`--kube-context: ${file} has no context ${JSON.stringify(options.context)} (it has: ${contexts.join(", ") || "none"})`);
  }
  const forContext = (context: string): KubeConfig => {
    const config = new KubeConfig();
    config.loadFromFile(file);
    config.setCurrentContext(context);
    return config;
  };
  const out: ClusterConfig[] = [];
  if (current && contexts.includes(current)) out.push({ targetName: KUBERNETES_TARGET, config: forContext(current) });
  for (const context of contexts) out.push({ targetName: `${KUBERNETES_TARGET}@${context}`, config: forContext(context) });
  return out;
}

function firstExisting(files: readonly string[]): string | undefined {
  return files.find((f) => f !== "" && existsSync(f));
}
