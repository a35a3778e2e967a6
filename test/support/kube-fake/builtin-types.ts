// The built-in resource types the fake serves, as the real server's discovery
// describes them (group, version, plural, kind, scope, short names).
import type { ResourceType } from "./types.js";

interface Spec {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  hasStatus?: boolean;
  hasGeneration?: boolean;
}

function type(spec: Spec): ResourceType {
  return {
    group: spec.group,
    versions: [spec.version],
    plural: spec.plural,
    singular: spec.kind.toLowerCase(),
    kind: spec.kind,
    listKind: `${spec.kind}List`,
    namespaced: spec.namespaced,
    shortNames: spec.shortNames ?? [],
    categories: spec.categories ?? [],
    hasStatus: spec.hasStatus ?? false,
    hasGeneration: spec.hasGeneration ?? false,
    custom: false,
  };
}

const ALL = ["all"];
const WORKLOAD = { hasStatus: true, hasGeneration: true, categories: ALL };

/** Every built-in type, in discovery order. */
export const BUILTIN_TYPES: readonly ResourceType[] = [
  type({ group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false, shortNames: ["ns"], hasStatus: true }),
  type({ group: "", version: "v1", plural: "configmaps", kind: "ConfigMap", namespaced: true, shortNames: ["cm"] }),
  type({ group: "", version: "v1", plural: "secrets", kind: "Secret", namespaced: true }),
  type({ group: "", version: "v1", plural: "services", kind: "Service", namespaced: true, shortNames: ["svc"], categories: ALL, hasStatus: true }),
  type({ group: "", version: "v1", plural: "serviceaccounts", kind: "ServiceAccount", namespaced: true, shortNames: ["sa"] }),
  type({ group: "", version: "v1", plural: "pods", kind: "Pod", namespaced: true, shortNames: ["po"], categories: ALL, hasStatus: true }),
  type({ group: "", version: "v1", plural: "persistentvolumeclaims", kind: "PersistentVolumeClaim", namespaced: true, shortNames: ["pvc"], hasStatus: true }),
  type({ group: "", version: "v1", plural: "events", kind: "Event", namespaced: true, shortNames: ["ev"] }),
  type({ group: "apps", version: "v1", plural: "deployments", kind: "Deployment", namespaced: true, shortNames: ["deploy"], ...WORKLOAD }),
  type({ group: "apps", version: "v1", plural: "statefulsets", kind: "StatefulSet", namespaced: true, shortNames: ["sts"], ...WORKLOAD }),
  type({ group: "apps", version: "v1", plural: "daemonsets", kind: "DaemonSet", namespaced: true, shortNames: ["ds"], ...WORKLOAD }),
  type({ group: "apps", version: "v1", plural: "replicasets", kind: "ReplicaSet", namespaced: true, shortNames: ["rs"], ...WORKLOAD }),
  type({ group: "batch", version: "v1", plural: "jobs", kind: "Job", namespaced: true, ...WORKLOAD }),
  type({ group: "networking.k8s.io", version: "v1", plural: "ingresses", kind: "Ingress", namespaced: true, shortNames: ["ing"], hasStatus: true, hasGeneration: true }),
  type({ group: "rbac.authorization.k8s.io", version: "v1", plural: "roles", kind: "Role", namespaced: true }),
  type({ group: "rbac.authorization.k8s.io", version: "v1", plural: "rolebindings", kind: "RoleBinding", namespaced: true }),
  type({ group: "rbac.authorization.k8s.io", version: "v1", plural: "clusterroles", kind: "ClusterRole", namespaced: false }),
  type({ group: "rbac.authorization.k8s.io", version: "v1", plural: "clusterrolebindings", kind: "ClusterRoleBinding", namespaced: false }),
  type({
    group: "apiextensions.k8s.io",
    version: "v1",
    plural: "customresourcedefinitions",
    kind: "CustomResourceDefinition",
    namespaced: false,
    shortNames: ["crd", "crds"],
    categories: ["api-extensions"],
    hasStatus: true,
    hasGeneration: true,
  }),
];

/** The verbs discovery lists for every resource the fake serves. */
export const VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
