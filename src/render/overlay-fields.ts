/**
 * Which fields an overlay's transformers touch, after Kustomize's default
 * transformer configuration (api/konfig/builtinpluginconsts): labels and
 * annotations on metadata, pod templates and selectors; names, and the
 * fields of other objects that refer to a renamed object by name. Host
 * objects (`host.ferry.dev`) refer to each other by path, never by name, so
 * only their metadata is touched. Data only.
 */
import type { FieldSpec, GroupKind } from "./field-specs.js";

const k = (group: string, ...kinds: string[]): GroupKind[] => kinds.map((kind) => ({ group, kind }));

const WORKLOADS = [...k("apps", "Deployment", "ReplicaSet", "DaemonSet", "StatefulSet"), ...k("", "ReplicationController"), ...k("batch", "Job")];
const CRON_JOB = k("batch", "CronJob");

/** Where a label goes: on the object, on its pod templates, or into its selectors. */
export type LabelPlace = "metadata" | "template" | "selector";

/** Label fields by place; `commonLabels` uses all of them, `labels` the metadata plus what it includes. */
export const LABEL_FIELDS: readonly (FieldSpec & { readonly place: LabelPlace })[] = [
  { path: "metadata/labels", create: true, place: "metadata" },
  { kinds: WORKLOADS, path: "spec/template/metadata/labels", create: true, place: "template" },
  { kinds: CRON_JOB, path: "spec/jobTemplate/metadata/labels", create: true, place: "template" },
  { kinds: CRON_JOB, path: "spec/jobTemplate/spec/template/metadata/labels", create: true, place: "template" },
  { kinds: k("apps", "StatefulSet"), path: "spec/volumeClaimTemplates/metadata/labels", create: true, place: "template" },
  { kinds: k("", "Service"), path: "spec/selector", create: true, place: "selector" },
  { kinds: k("", "ReplicationController"), path: "spec/selector", create: false, place: "selector" },
  { kinds: k("apps", "Deployment", "ReplicaSet", "DaemonSet", "StatefulSet"), path: "spec/selector/matchLabels", create: true, place: "selector" },
  { kinds: k("batch", "Job"), path: "spec/selector/matchLabels", create: false, place: "selector" },
  { kinds: CRON_JOB, path: "spec/jobTemplate/spec/selector/matchLabels", create: false, place: "selector" },
  { kinds: k("policy", "PodDisruptionBudget"), path: "spec/selector/matchLabels", create: false, place: "selector" },
  { kinds: k("networking.k8s.io", "NetworkPolicy"), path: "spec/podSelector/matchLabels", create: false, place: "selector" },
  { kinds: k("networking.k8s.io", "NetworkPolicy"), path: "spec/ingress/from/podSelector/matchLabels", create: false, place: "selector" },
  { kinds: k("networking.k8s.io", "NetworkPolicy"), path: "spec/egress/to/podSelector/matchLabels", create: false, place: "selector" },
];

/** Annotation fields: on the object and on its pod templates. */
export const ANNOTATION_FIELDS: readonly FieldSpec[] = [
  { path: "metadata/annotations", create: true },
  { kinds: WORKLOADS, path: "spec/template/metadata/annotations", create: true },
  { kinds: CRON_JOB, path: "spec/jobTemplate/metadata/annotations", create: true },
  { kinds: CRON_JOB, path: "spec/jobTemplate/spec/template/metadata/annotations", create: true },
];

/** Kinds whose names a prefix or suffix leaves alone (Kustomize: their names are fixed by what they define). */
export const NOT_RENAMED: readonly GroupKind[] = [...k("", "Namespace"), ...k("apiextensions.k8s.io", "CustomResourceDefinition"), ...k("apiregistration.k8s.io", "APIService")];

/**
 * A field that names an object of the referenced kind: in objects of
 * `kinds`, at `path`. With `kindField`, the mapping holding the name says
 * which kind it refers to (`roleRef: {kind: Role, name: ...}`) and only that
 * kind counts.
 */
export interface NameReference extends FieldSpec {
  readonly kindField?: true;
}

const POD_SPECS: readonly { readonly kinds: readonly GroupKind[]; readonly prefix: string }[] = [
  { kinds: k("", "Pod"), prefix: "spec" },
  { kinds: [...WORKLOADS], prefix: "spec/template/spec" },
  { kinds: CRON_JOB, prefix: "spec/jobTemplate/spec/template/spec" },
];
const CONTAINERS = ["containers", "initContainers", "ephemeralContainers"];

/** The same paths inside every kind's pod spec. */
function inPodSpecs(...paths: string[]): NameReference[] {
  return POD_SPECS.flatMap(({ kinds, prefix }) => paths.map((path) => ({ kinds, path: `${prefix}/${path}` })));
}

/** The same paths inside every container of every pod spec. */
function inContainers(...paths: string[]): NameReference[] {
  return inPodSpecs(...CONTAINERS.flatMap((c) => paths.map((p) => `${c}/${p}`)));
}

const SCALED = k("autoscaling", "HorizontalPodAutoscaler");
const BINDINGS = k("rbac.authorization.k8s.io", "RoleBinding", "ClusterRoleBinding");

/** Per referenced kind, the fields of other objects that name it. */
export const NAME_REFERENCES: readonly { readonly referenced: GroupKind; readonly clusterScoped?: true; readonly from: readonly NameReference[] }[] = [
  {
    referenced: { group: "", kind: "ConfigMap" },
    from: [
      ...inPodSpecs("volumes/configMap/name", "volumes/projected/sources/configMap/name"),
      ...inContainers("env/valueFrom/configMapKeyRef/name", "envFrom/configMapRef/name"),
    ],
  },
  {
    referenced: { group: "", kind: "Secret" },
    from: [
      ...inPodSpecs("volumes/secret/secretName", "volumes/projected/sources/secret/name", "imagePullSecrets/name"),
      ...inContainers("env/valueFrom/secretKeyRef/name", "envFrom/secretRef/name"),
      { kinds: k("", "ServiceAccount"), path: "secrets/name" },
      { kinds: k("", "ServiceAccount"), path: "imagePullSecrets/name" },
      { kinds: k("networking.k8s.io", "Ingress"), path: "spec/tls/secretName" },
    ],
  },
  {
    referenced: { group: "", kind: "Service" },
    from: [
      { kinds: k("networking.k8s.io", "Ingress"), path: "spec/rules/http/paths/backend/service/name" },
      { kinds: k("networking.k8s.io", "Ingress"), path: "spec/defaultBackend/service/name" },
      { kinds: k("apps", "StatefulSet"), path: "spec/serviceName" },
      { kinds: k("apiregistration.k8s.io", "APIService"), path: "spec/service/name" },
      { kinds: k("admissionregistration.k8s.io", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"), path: "webhooks/clientConfig/service/name" },
    ],
  },
  {
    referenced: { group: "", kind: "ServiceAccount" },
    from: [...inPodSpecs("serviceAccountName"), { kinds: BINDINGS, path: "subjects/name", kindField: true }],
  },
  { referenced: { group: "rbac.authorization.k8s.io", kind: "Role" }, from: [{ kinds: BINDINGS, path: "roleRef/name", kindField: true }] },
  { referenced: { group: "rbac.authorization.k8s.io", kind: "ClusterRole" }, clusterScoped: true, from: [{ kinds: BINDINGS, path: "roleRef/name", kindField: true }] },
  { referenced: { group: "", kind: "PersistentVolumeClaim" }, from: inPodSpecs("volumes/persistentVolumeClaim/claimName") },
  { referenced: { group: "", kind: "PersistentVolume" }, clusterScoped: true, from: [{ kinds: k("", "PersistentVolumeClaim"), path: "spec/volumeName" }] },
  { referenced: { group: "scheduling.k8s.io", kind: "PriorityClass" }, clusterScoped: true, from: inPodSpecs("priorityClassName") },
  ...(["Deployment", "ReplicaSet", "StatefulSet"] as const).map((kind) => ({
    referenced: { group: "apps", kind },
    from: [{ kinds: SCALED, path: "spec/scaleTargetRef/name", kindField: true as const }],
  })),
];
