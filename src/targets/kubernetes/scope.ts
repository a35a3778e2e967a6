import { groupOf, resourceKey } from "../../core/ids.js";
import type { JsonObject } from "../../core/json.js";
import { isJsonObject } from "../../core/json.js";
import type { RenderedObject } from "../../core/objects.js";

/** Built-in kinds that live outside namespaces, by API group. */
const CLUSTER_SCOPED: Readonly<Record<string, readonly string[]>> = {
  "": ["Namespace", "Node", "PersistentVolume", "ComponentStatus"],
  "rbac.authorization.k8s.io": ["ClusterRole", "ClusterRoleBinding"],
  "apiextensions.k8s.io": ["CustomResourceDefinition"],
  "apiregistration.k8s.io": ["APIService"],
  "admissionregistration.k8s.io": ["ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"],
  "storage.k8s.io": ["StorageClass", "CSIDriver", "CSINode", "VolumeAttachment"],
  "scheduling.k8s.io": ["PriorityClass"],
  "node.k8s.io": ["RuntimeClass"],
  "networking.k8s.io": ["IngressClass"],
  "certificates.k8s.io": ["CertificateSigningRequest"],
  "flowcontrol.apiserver.k8s.io": ["FlowSchema", "PriorityLevelConfiguration"],
};

/** The namespace objects go to when neither they nor their application name one. */
export const DEFAULT_NAMESPACE = "default";

/**
 * Puts the application's namespace on namespaced objects that name none, and
 * keys them by it, so the inventory, reads and deletes all name the real
 * object. A kind is cluster-scoped when it is a built-in one or a
 * CustomResourceDefinition among the objects says so; any other kind is taken
 * as namespaced (the server's discovery has the last word when it is applied).
 * Pure.
 */
export function withDefaultNamespace(objects: readonly RenderedObject[], namespace = DEFAULT_NAMESPACE): RenderedObject[] {
  const clusterKinds = new Set(objects.flatMap(clusterScopedKindOf));
  return objects.map((object) => {
    const { apiVersion, kind, metadata } = object.manifest;
    if (metadata.namespace !== undefined || typeof metadata.name !== "string") return object;
    const group = groupOf(apiVersion);
    if (CLUSTER_SCOPED[group]?.includes(kind) || clusterKinds.has(`${group}/${kind}`)) return object;
    const manifest = { ...object.manifest, metadata: { ...metadata, namespace } };
    return { ...object, manifest, key: resourceKey(apiVersion, kind, metadata.name, namespace) };
  });
}

/** `group/Kind` of the objects a cluster-scoped CustomResourceDefinition defines. */
function clusterScopedKindOf(object: RenderedObject): string[] {
  const { manifest } = object;
  if (manifest.kind !== "CustomResourceDefinition" || groupOf(manifest.apiVersion) !== "apiextensions.k8s.io") return [];
  const spec = manifest.spec;
  if (!isJsonObject(spec) || spec.scope !== "Cluster" || typeof spec.group !== "string") return [];
  const names = spec.names as JsonObject | undefined;
  return isJsonObject(names) && typeof names.kind === "string" ? [`${spec.group}/${names.kind}`] : [];
}
