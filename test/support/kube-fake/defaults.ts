// Defaults the real API server fills in on every write, for the built-in kinds
// the fake serves: what a client reading an object back must expect to see
// although it never wrote it (and must not mistake for drift).
import type { Json, JsonObject } from "./types.js";
import { isObject, metadataOf, objectField, stringField } from "./types.js";

function setDefault(obj: JsonObject, key: string, value: Json): void {
  if (obj[key] === undefined) obj[key] = value;
}

function defaultPorts(list: Json | undefined): void {
  if (!Array.isArray(list)) return;
  for (const port of list) if (isObject(port)) setDefault(port, "protocol", "TCP");
}

function defaultContainer(container: Json): void {
  if (!isObject(container)) return;
  const image = stringField(container, "image") ?? "";
  const tag = /:[^/]+$/.exec(image)?.[0];
  setDefault(container, "imagePullPolicy", !image.includes("@") && (tag === undefined || tag === ":latest") ? "Always" : "IfNotPresent");
  setDefault(container, "terminationMessagePath", "/dev/termination-log");
  setDefault(container, "terminationMessagePolicy", "File");
  setDefault(container, "resources", {});
  defaultPorts(container["ports"]);
}

/** Defaults of a pod spec (in a Pod or a workload's template). */
function defaultPodSpec(spec: JsonObject | undefined, restartPolicy: string | undefined): void {
  if (!spec) return;
  for (const list of ["containers", "initContainers"]) {
    const containers = spec[list];
    if (Array.isArray(containers)) containers.forEach(defaultContainer);
  }
  if (restartPolicy) setDefault(spec, "restartPolicy", restartPolicy);
  setDefault(spec, "dnsPolicy", "ClusterFirst");
  setDefault(spec, "schedulerName", "default-scheduler");
  setDefault(spec, "securityContext", {});
  setDefault(spec, "terminationGracePeriodSeconds", 30);
}

function templateSpec(spec: JsonObject | undefined): JsonObject | undefined {
  return objectField(objectField(spec, "template"), "spec");
}

let nextClusterIp = 1;

/** Allocates a ClusterIP from 10.96.0.0/12, as the real service IP allocator would. */
function allocateClusterIp(): string {
  const n = nextClusterIp++;
  return `10.96.${Math.floor(n / 250) % 250}.${(n % 250) + 2}`;
}

function defaultService(obj: JsonObject): void {
  const spec = objectField(obj, "spec") ?? (obj["spec"] = {});
  setDefault(spec, "type", "ClusterIP");
  setDefault(spec, "sessionAffinity", "None");
  const ports = spec["ports"];
  defaultPorts(ports);
  if (Array.isArray(ports)) for (const port of ports) if (isObject(port) && port["port"] !== undefined) setDefault(port, "targetPort", port["port"] ?? null);
  if (spec["type"] === "ExternalName") return;
  setDefault(spec, "clusterIP", allocateClusterIp());
  setDefault(spec, "clusterIPs", spec["clusterIP"] === "None" ? ["None"] : [spec["clusterIP"] ?? null]);
  setDefault(spec, "ipFamilies", ["IPv4"]);
  setDefault(spec, "ipFamilyPolicy", "SingleStack");
  setDefault(spec, "internalTrafficPolicy", "Cluster");
}

function defaultDeployment(spec: JsonObject): void {
  setDefault(spec, "replicas", 1);
  setDefault(spec, "revisionHistoryLimit", 10);
  setDefault(spec, "progressDeadlineSeconds", 600);
  setDefault(spec, "strategy", { type: "RollingUpdate" });
  const strategy = objectField(spec, "strategy");
  if (strategy && strategy["type"] === "RollingUpdate") setDefault(strategy, "rollingUpdate", { maxUnavailable: "25%", maxSurge: "25%" });
  defaultPodSpec(templateSpec(spec), "Always");
}

function defaultStatefulSet(spec: JsonObject): void {
  setDefault(spec, "replicas", 1);
  setDefault(spec, "podManagementPolicy", "OrderedReady");
  setDefault(spec, "updateStrategy", { type: "RollingUpdate", rollingUpdate: { partition: 0 } });
  setDefault(spec, "revisionHistoryLimit", 10);
  setDefault(spec, "persistentVolumeClaimRetentionPolicy", { whenDeleted: "Retain", whenScaled: "Retain" });
  defaultPodSpec(templateSpec(spec), "Always");
}

function defaultDaemonSet(spec: JsonObject): void {
  setDefault(spec, "updateStrategy", { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
  setDefault(spec, "revisionHistoryLimit", 10);
  defaultPodSpec(templateSpec(spec), "Always");
}

function defaultJob(obj: JsonObject, spec: JsonObject): void {
  setDefault(spec, "parallelism", 1);
  setDefault(spec, "completions", 1);
  setDefault(spec, "backoffLimit", 6);
  setDefault(spec, "completionMode", "NonIndexed");
  setDefault(spec, "suspend", false);
  setDefault(spec, "podReplacementPolicy", "TerminatingOrFailed");
  defaultPodSpec(templateSpec(spec), undefined);
  // The job controller's selector: the Job's uid, in the selector and the template's labels.
  const meta = metadataOf(obj);
  const uid = stringField(meta, "uid");
  const name = stringField(meta, "name");
  if (uid && spec["manualSelector"] !== true && spec["selector"] === undefined) {
    spec["selector"] = { matchLabels: { "batch.kubernetes.io/controller-uid": uid } };
    const template = objectField(spec, "template");
    if (template) {
      const tmeta = objectField(template, "metadata") ?? (template["metadata"] = {});
      const labels = objectField(tmeta, "labels") ?? (tmeta["labels"] = {});
      Object.assign(labels, { "batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": name ?? "", "controller-uid": uid, "job-name": name ?? "" });
    }
  }
}

/** Fills in the real server's defaults for `kind`, in place; `obj` carries its final uid and name. */
export function applyDefaults(kind: string, obj: JsonObject): void {
  const spec = objectField(obj, "spec");
  switch (kind) {
    case "Namespace": {
      const labels = objectField(metadataOf(obj), "labels") ?? (metadataOf(obj)["labels"] = {});
      labels["kubernetes.io/metadata.name"] = stringField(metadataOf(obj), "name") ?? "";
      setDefault(obj, "spec", { finalizers: ["kubernetes"] });
      break;
    }
    case "Secret": {
      setDefault(obj, "type", "Opaque");
      const stringData = objectField(obj, "stringData");
      if (stringData) {
        const data = objectField(obj, "data") ?? (obj["data"] = {});
        for (const [key, value] of Object.entries(stringData)) data[key] = Buffer.from(String(value ?? ""), "utf8").toString("base64");
        delete obj["stringData"];
      }
      break;
    }
    case "Service":
      defaultService(obj);
      break;
    case "ServiceAccount":
    case "ConfigMap":
      break;
    case "Pod":
      defaultPodSpec(spec, "Always");
      break;
    case "PersistentVolumeClaim":
      if (spec) setDefault(spec, "volumeMode", "Filesystem");
      break;
    case "Deployment":
      if (spec) defaultDeployment(spec);
      break;
    case "StatefulSet":
      if (spec) defaultStatefulSet(spec);
      break;
    case "DaemonSet":
      if (spec) defaultDaemonSet(spec);
      break;
    case "ReplicaSet":
      if (spec) {
        setDefault(spec, "replicas", 1);
        defaultPodSpec(templateSpec(spec), "Always");
      }
      break;
    case "Job":
      if (spec) defaultJob(obj, spec);
      break;
  }
}

/** Defaults the key fields of keyed lists in an applied configuration (ports' protocol), as the real server does before merging. */
export function defaultListKeys(kind: string, obj: JsonObject): void {
  const spec = objectField(obj, "spec");
  if (kind === "Service") defaultPorts(spec?.["ports"]);
  const podSpec = kind === "Pod" ? spec : templateSpec(spec);
  for (const list of ["containers", "initContainers"]) {
    const containers = podSpec?.[list];
    if (Array.isArray(containers)) for (const c of containers) if (isObject(c)) defaultPorts(c["ports"]);
  }
}
