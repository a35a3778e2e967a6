import type { TargetAgentOptions, TargetEntry } from "../registry-types.js";
import type { ClusterConfig } from "./clusters.js";
import { loadClusters, parseKubeTimeouts } from "./clusters.js";
import { KubeClient } from "./kube-client.js";
import { KUBERNETES_TARGET, kubernetesValidator } from "./kube-validate.js";
import { kubernetesKindOrder } from "./kind-order.js";
import { createKubernetesTarget } from "./kubernetes-target.js";
import { prepareKubernetesObjects } from "./kubernetes-validator.js";
import { kubernetesSettingsOf, kubernetesSettingsSchema } from "./settings.js";

/** The Kubernetes target: one per cluster (context) of the agent's kubeconfig, or the cluster it runs in. */
export const kubernetesEntry: TargetEntry = {
  name: KUBERNETES_TARGET,
  // Strict offline: a custom kind needs its CustomResourceDefinition in the repository. Namespaces default as in the agent.
  validator: () => ({ ...kubernetesValidator(), prepare: prepareKubernetesObjects }),
  create: (options) =>
    clustersOf(options).map((cluster) =>
      createKubernetesTarget({ client: new KubeClient(cluster.source, cluster.client), name: cluster.targetName, healthRules: options.healthRules }),
    ),
  agentOptions: ["kubeconfig", "kubeContext", "kubeTimeout", "healthRules"],
  settings: { schema: kubernetesSettingsSchema, toSettings: kubernetesSettingsOf },
  kindOrder: kubernetesKindOrder,
};

/**
 * The Kubernetes clusters of the agent. A kubeconfig or context named on the
 * command line must load; one found by default that does not is reported and
 * skipped, so an agent of the host target alone still starts.
 */
function clustersOf(options: Pick<TargetAgentOptions, "kubeconfig" | "kubeContext" | "kubeTimeout">): ClusterConfig[] {
  const named = options.kubeconfig !== undefined || options.kubeContext !== undefined || options.kubeTimeout !== undefined;
  try {
    return loadClusters({
      ...(options.kubeconfig !== undefined ? { kubeconfig: options.kubeconfig } : {}),
      ...(options.kubeContext !== undefined ? { context: options.kubeContext } : {}),
      ...(options.kubeTimeout !== undefined ? { timeouts: parseKubeTimeouts(options.kubeTimeout) } : {}),
    });
  } catch (error) {
    if (named) throw error;
    console.error(`ferry agent: no kubernetes target: ${(error as Error).message}`);
    return [];
  }
}
