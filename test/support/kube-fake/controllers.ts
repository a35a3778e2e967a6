// What a cluster with instant controllers does after a write: workloads roll
// out, Jobs complete, PVCs bind, Pods run, CRDs become Established. Each is a
// status write (manager kube-controller-manager, kubelet or kube-apiserver),
// made asynchronously after the client's write, never counted as its write.
import { createHash } from "node:crypto";
import type { Json, JsonObject, ResourceType } from "./types.js";
import { isObject, jsonEqual, objectField, readMetadata, stringField } from "./types.js";

/** The status a workload reports once its controller has caught up with its spec; undefined leaves it alone. */
export type StatusWriter = (type: ResourceType, obj: JsonObject, status: JsonObject, manager: string) => void;

function condition(type: string, reason: string, message: string, now: string, previous: Json | undefined, extra: JsonObject = {}): JsonObject {
  const old = Array.isArray(previous) ? previous.find((c) => isObject(c) && c["type"] === type) : undefined;
  const keep = isObject(old) && old["status"] === "True" && old["reason"] === reason;
  const since = keep ? (old["lastTransitionTime"] ?? now) : now;
  return { type, status: "True", ...extra, lastTransitionTime: since, reason, message };
}

/** Sets numeric fields, leaving zeros out as the real status (omitempty) does. */
function counts(out: JsonObject, values: Record<string, number>): JsonObject {
  for (const [k, v] of Object.entries(values)) if (v !== 0) out[k] = v;
  return out;
}

function templateHash(obj: JsonObject): string {
  return createHash("sha256").update(JSON.stringify(objectField(objectField(obj, "spec"), "template") ?? {})).digest("hex").slice(0, 10);
}

function replicasOf(spec: JsonObject | undefined): number {
  const r = spec?.["replicas"];
  return typeof r === "number" ? r : 1;
}

/** The status a controller would write for `obj` now, or undefined when the kind has no controller here. */
export function desiredStatus(type: ResourceType, obj: JsonObject, now: string): { status: JsonObject; manager: string } | undefined {
  if (type.custom) return undefined;
  const meta = readMetadata(obj);
  const name = stringField(meta, "name") ?? "";
  const generation = typeof meta["generation"] === "number" ? meta["generation"] : 1;
  const spec = objectField(obj, "spec");
  const old = objectField(obj, "status");
  const oldConditions = old?.["conditions"];
  const kcm = "kube-controller-manager";
  switch (type.kind) {
    case "Deployment": {
      const n = replicasOf(spec);
      const status = counts({ observedGeneration: generation }, { replicas: n, updatedReplicas: n, readyReplicas: n, availableReplicas: n });
      status["conditions"] = [
        condition("Available", "MinimumReplicasAvailable", "Deployment has minimum availability.", now, oldConditions, { lastUpdateTime: now }),
        condition("Progressing", "NewReplicaSetAvailable", `ReplicaSet "${name}-${templateHash(obj)}" has successfully progressed.`, now, oldConditions, { lastUpdateTime: now }),
      ];
      keepUpdateTimes(status, old);
      return { status, manager: kcm };
    }
    case "StatefulSet": {
      const n = replicasOf(spec);
      const revision = `${name}-${templateHash(obj)}`;
      const status = counts({ observedGeneration: generation }, { replicas: n, readyReplicas: n, currentReplicas: n, updatedReplicas: n, availableReplicas: n });
      Object.assign(status, { currentRevision: revision, updateRevision: revision, collisionCount: 0 });
      return { status, manager: kcm };
    }
    case "DaemonSet":
      return {
        status: { currentNumberScheduled: 1, desiredNumberScheduled: 1, numberAvailable: 1, numberMisscheduled: 0, numberReady: 1, observedGeneration: generation, updatedNumberScheduled: 1 },
        manager: kcm,
      };
    case "ReplicaSet": {
      const n = replicasOf(spec);
      return { status: counts({ observedGeneration: generation }, { replicas: n, fullyLabeledReplicas: n, readyReplicas: n, availableReplicas: n }), manager: kcm };
    }
    case "Job": {
      if (spec?.["suspend"] === true) return undefined;
      if (Array.isArray(oldConditions) && oldConditions.some((c) => isObject(c) && c["type"] === "Complete")) return undefined;
      const completions = typeof spec?.["completions"] === "number" ? spec["completions"] : 1;
      const status: JsonObject = {
        conditions: [
          condition("SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods", now, oldConditions, { lastProbeTime: now }),
          condition("Complete", "CompletionsReached", "Reached expected number of succeeded pods", now, oldConditions, { lastProbeTime: now }),
        ],
        startTime: stringField(old, "startTime") ?? now,
        completionTime: now,
        succeeded: completions,
        ready: 0,
        terminating: 0,
        uncountedTerminatedPods: {},
      };
      return { status, manager: kcm };
    }
    case "PersistentVolumeClaim": {
      const storage = objectField(objectField(spec, "resources"), "requests")?.["storage"] ?? "1Gi";
      return { status: { phase: "Bound", accessModes: spec?.["accessModes"] ?? ["ReadWriteOnce"], capacity: { storage } }, manager: kcm };
    }
    case "Pod": {
      const containers = Array.isArray(spec?.["containers"]) ? spec["containers"].filter(isObject) : [];
      const started = stringField(old, "startTime") ?? now;
      return {
        status: {
          phase: "Running",
          conditions: ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"].map((t) => ({ type: t, status: "True", lastProbeTime: null, lastTransitionTime: started })),
          hostIP: "10.0.0.10",
          podIP: "10.244.0.10",
          startTime: started,
          qosClass: stringField(old, "qosClass") ?? "BestEffort",
          containerStatuses: containers.map((c) => ({
            name: c["name"] ?? null,
            ready: true,
            started: true,
            restartCount: 0,
            image: c["image"] ?? null,
            imageID: "",
            state: { running: { startedAt: started } },
          })),
        },
        manager: "kubelet",
      };
    }
    case "CustomResourceDefinition": {
      const names = { ...(objectField(spec, "names") ?? {}) };
      const kind = stringField(names, "kind") ?? "";
      names["singular"] ??= kind.toLowerCase();
      names["listKind"] ??= `${kind}List`;
      const versions = Array.isArray(spec?.["versions"]) ? spec["versions"].filter(isObject) : [];
      const storage = versions.find((v) => v["storage"] === true);
      const stored = Array.isArray(old?.["storedVersions"]) ? old["storedVersions"] : [];
      const storedVersions = [...new Set([...stored, storage?.["name"] ?? null])];
      return {
        status: {
          acceptedNames: names,
          conditions: [
            condition("NamesAccepted", "NoConflicts", "no conflicts found", now, oldConditions),
            condition("Established", "InitialNamesAccepted", "the initial names have been accepted", now, oldConditions),
          ],
          storedVersions,
        },
        manager: "kube-apiserver",
      };
    }
    default:
      return undefined;
  }
}

/** A condition's lastUpdateTime stays as it was while nothing else in it changed. */
function keepUpdateTimes(status: JsonObject, old: JsonObject | undefined): void {
  const before = Array.isArray(old?.["conditions"]) ? old["conditions"].filter(isObject) : [];
  const now = Array.isArray(status["conditions"]) ? status["conditions"].filter(isObject) : [];
  for (const c of now) {
    const prev = before.find((p) => p["type"] === c["type"]);
    if (!prev) continue;
    const a = { ...c, lastUpdateTime: null };
    const b = { ...prev, lastUpdateTime: null };
    if (jsonEqual(a, b)) c["lastUpdateTime"] = prev["lastUpdateTime"] ?? null;
  }
}
