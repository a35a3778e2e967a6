// Fields the server knows, for unknown-field detection (fieldValidation) and
// the dropping of unknown fields that the real server's typed decoding does:
// for built-in kinds, the fields of the top level, metadata, the spec of the
// kinds listed here, pod templates and containers; for custom resources, the
// CRD's structural schema (properties, items, additionalProperties,
// x-kubernetes-preserve-unknown-fields).
import type { Json, JsonObject, ResourceType } from "./types.js";
import { isObject, objectField } from "./types.js";

const words = (text: string): ReadonlySet<string> => new Set(text.split(/\s+/).filter((w) => w !== ""));

const METADATA = words(
  "name generateName namespace selfLink uid resourceVersion generation creationTimestamp deletionTimestamp deletionGracePeriodSeconds labels annotations ownerReferences finalizers managedFields",
);
const WITH_SPEC = words("apiVersion kind metadata spec status");
const TOP: Readonly<Record<string, ReadonlySet<string>>> = {
  ConfigMap: words("apiVersion kind metadata data binaryData immutable"),
  Secret: words("apiVersion kind metadata data stringData type immutable"),
  ServiceAccount: words("apiVersion kind metadata secrets imagePullSecrets automountServiceAccountToken"),
  Role: words("apiVersion kind metadata rules"),
  ClusterRole: words("apiVersion kind metadata rules aggregationRule"),
  RoleBinding: words("apiVersion kind metadata subjects roleRef"),
  ClusterRoleBinding: words("apiVersion kind metadata subjects roleRef"),
  Event: words(
    "apiVersion kind metadata action count eventTime firstTimestamp involvedObject lastTimestamp message reason related reportingComponent reportingInstance series source type",
  ),
};
const SPEC: Readonly<Record<string, ReadonlySet<string>>> = {
  Deployment: words("minReadySeconds paused progressDeadlineSeconds replicas revisionHistoryLimit selector strategy template"),
  StatefulSet: words(
    "minReadySeconds ordinals persistentVolumeClaimRetentionPolicy podManagementPolicy replicas revisionHistoryLimit selector serviceName template updateStrategy volumeClaimTemplates",
  ),
  DaemonSet: words("minReadySeconds revisionHistoryLimit selector template updateStrategy"),
  ReplicaSet: words("minReadySeconds replicas selector template"),
  Job: words(
    "activeDeadlineSeconds backoffLimit backoffLimitPerIndex completionMode completions managedBy manualSelector maxFailedIndexes parallelism podFailurePolicy podReplacementPolicy selector successPolicy suspend template ttlSecondsAfterFinished",
  ),
  Service: words(
    "allocateLoadBalancerNodePorts clusterIP clusterIPs externalIPs externalName externalTrafficPolicy healthCheckNodePort internalTrafficPolicy ipFamilies ipFamilyPolicy loadBalancerClass loadBalancerIP loadBalancerSourceRanges ports publishNotReadyAddresses selector sessionAffinity sessionAffinityConfig trafficDistribution type",
  ),
  Namespace: words("finalizers"),
  PersistentVolumeClaim: words("accessModes dataSource dataSourceRef resources selector storageClassName volumeAttributesClassName volumeMode volumeName"),
  Ingress: words("defaultBackend ingressClassName rules tls"),
  CustomResourceDefinition: words("conversion group names preserveUnknownFields scope versions"),
};
const TEMPLATE = words("metadata spec");
const POD_SPEC = words(
  "activeDeadlineSeconds affinity automountServiceAccountToken containers dnsConfig dnsPolicy enableServiceLinks ephemeralContainers hostAliases hostIPC hostNetwork hostPID hostUsers hostname imagePullSecrets initContainers nodeName nodeSelector os overhead preemptionPolicy priority priorityClassName readinessGates resourceClaims resources restartPolicy runtimeClassName schedulerName schedulingGates securityContext serviceAccount serviceAccountName setHostnameAsFQDN shareProcessNamespace subdomain terminationGracePeriodSeconds tolerations topologySpreadConstraints volumes",
);
const CONTAINER = words(
  "args command env envFrom image imagePullPolicy lifecycle livenessProbe name ports readinessProbe resizePolicy resources restartPolicy securityContext startupProbe stdin stdinOnce terminationMessagePath terminationMessagePolicy tty volumeDevices volumeMounts workingDir",
);

/** Removes keys of `obj` not in `known`, recording their paths. */
function sweep(obj: JsonObject | undefined, known: ReadonlySet<string>, path: string, unknown: string[]): void {
  if (!obj) return;
  for (const key of Object.keys(obj)) {
    if (known.has(key)) continue;
    unknown.push(path ? `${path}.${key}` : key);
    delete obj[key];
  }
}

function sweepPodSpec(spec: JsonObject | undefined, path: string, unknown: string[]): void {
  if (!spec) return;
  sweep(spec, POD_SPEC, path, unknown);
  for (const list of ["containers", "initContainers"]) {
    const items = spec[list];
    if (!Array.isArray(items)) continue;
    items.forEach((item, i) => {
      if (isObject(item)) sweep(item, CONTAINER, `${path}.${list}[${i}]`, unknown);
    });
  }
}

function sweepBuiltin(kind: string, obj: JsonObject, unknown: string[]): void {
  sweep(obj, TOP[kind] ?? WITH_SPEC, "", unknown);
  sweep(objectField(obj, "metadata"), METADATA, "metadata", unknown);
  const spec = objectField(obj, "spec");
  const specFields = SPEC[kind];
  if (spec && specFields) sweep(spec, specFields, "spec", unknown);
  if (kind === "Pod") sweepPodSpec(spec, "spec", unknown);
  const template = objectField(spec, "template");
  if (template && ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"].includes(kind)) {
    sweep(template, TEMPLATE, "spec.template", unknown);
    sweep(objectField(template, "metadata"), METADATA, "spec.template.metadata", unknown);
    sweepPodSpec(objectField(template, "spec"), "spec.template.spec", unknown);
  }
}

/** Prunes a value by a structural schema, as the real server prunes custom resources. */
function pruneBySchema(value: Json | undefined, schema: JsonObject, path: string, unknown: string[]): void {
  if (isObject(value)) {
    const properties = objectField(schema, "properties");
    const additional = schema["additionalProperties"];
    const preserve = schema["x-kubernetes-preserve-unknown-fields"] === true;
    for (const key of Object.keys(value)) {
      const child = path ? `${path}.${key}` : key;
      const declared = objectField(properties, key);
      if (declared) pruneBySchema(value[key], declared, child, unknown);
      else if (isObject(additional)) pruneBySchema(value[key], additional, child, unknown);
      else if (additional === true || preserve) continue;
      else {
        unknown.push(child);
        delete value[key];
      }
    }
  } else if (Array.isArray(value)) {
    const items = objectField(schema, "items");
    if (items) value.forEach((item, i) => pruneBySchema(item, items, `${path}[${i}]`, unknown));
  }
}

/** The openAPIV3Schema a CRD declares for one version, if any. */
export function crdSchema(crd: JsonObject | undefined, version: string): JsonObject | undefined {
  const versions = objectField(crd, "spec")?.["versions"];
  if (!Array.isArray(versions)) return undefined;
  const entry = versions.find((v) => isObject(v) && v["name"] === version);
  return isObject(entry) ? objectField(objectField(entry, "schema"), "openAPIV3Schema") : undefined;
}

/**
 * Removes the fields the server does not know from `obj` (in place) and
 * returns their paths; `schema` is the CRD's schema for custom resources.
 */
export function dropUnknownFields(type: ResourceType, obj: JsonObject, schema: JsonObject | undefined): string[] {
  const unknown: string[] = [];
  if (!type.custom) {
    sweepBuiltin(type.kind, obj, unknown);
    return unknown;
  }
  sweep(objectField(obj, "metadata"), METADATA, "metadata", unknown);
  if (!schema) return unknown;
  const rest: JsonObject = { ...obj };
  delete rest["apiVersion"];
  delete rest["kind"];
  delete rest["metadata"];
  pruneBySchema(rest, schema, "", unknown);
  for (const key of Object.keys(obj)) if (!["apiVersion", "kind", "metadata"].includes(key) && !(key in rest)) delete obj[key];
  return unknown;
}
