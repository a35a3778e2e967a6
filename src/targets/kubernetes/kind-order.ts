import type { KindOrder } from "../kind-order.js";

/** Namespaces and definitions first, then what workloads mount or run as, Jobs after the rest. */
export const kubernetesKindOrder: KindOrder = {
  priority: { Namespace: 0, CustomResourceDefinition: 1, ServiceAccount: 2, Secret: 2, ConfigMap: 2, Job: 4 },
  definitions: ["Namespace", "CustomResourceDefinition"],
};
