import type { Health } from "../../../core/health.js";
import type { JsonObject } from "../../../core/json.js";
import { count } from "../../../core/text.js";
import { awaitingObservation, conditionOf, generationPending, health, isTrue, numberAt, stringAt } from "./fields.js";

/** `spec.replicas`, which the API server defaults to 1. */
function desiredReplicas(object: JsonObject): number {
  return numberAt(object, "spec.replicas") ?? 1;
}

/**
 * A Deployment: Suspended while paused; Progressing until the controller has
 * seen the spec and every replica is updated and available; Degraded once the
 * rollout passed its progress deadline.
 */
export function deploymentHealth(object: JsonObject): Health {
  if (isTrue(object, "spec.paused")) return health("Suspended", "rollout is paused");
  if (generationPending(object, true)) return awaitingObservation(object);
  const progressing = conditionOf(object, "Progressing");
  if (progressing?.reason === "ProgressDeadlineExceeded") {
    return health("Degraded", "rollout exceeded its progress deadline", progressing.message);
  }
  const desired = desiredReplicas(object);
  const updated = numberAt(object, "status.updatedReplicas") ?? 0;
  const current = numberAt(object, "status.replicas") ?? 0;
  const available = numberAt(object, "status.availableReplicas") ?? 0;
  if (updated < desired) return health("Progressing", `rollout: ${updated} of ${count(desired, "replica")} updated`);
  if (current > updated) return health("Progressing", `rollout: ${count(current - updated, "old replica")} pending termination`);
  if (available < updated) return health("Progressing", `${available} of ${count(updated, "replica")} available`);
  return health("Healthy", `${available} of ${count(desired, "replica")} available`);
}

/**
 * A StatefulSet: Progressing until the controller has seen the spec, every
 * replica is ready, and the rolling update (or its partition) is done.
 */
export function statefulSetHealth(object: JsonObject): Health {
  if (generationPending(object, true)) return awaitingObservation(object);
  const desired = desiredReplicas(object);
  const ready = numberAt(object, "status.readyReplicas") ?? 0;
  const updated = numberAt(object, "status.updatedReplicas") ?? 0;
  if (ready < desired) return health("Progressing", `${ready} of ${count(desired, "replica")} ready`);
  const strategy = stringAt(object, "spec.updateStrategy.type") ?? "RollingUpdate";
  if (strategy === "OnDelete") return health("Healthy", `${ready} of ${count(desired, "replica")} ready (pods update when deleted)`);
  const partition = numberAt(object, "spec.updateStrategy.rollingUpdate.partition");
  if (partition !== undefined && partition > 0) {
    const toUpdate = Math.max(desired - partition, 0);
    if (updated < toUpdate) return health("Progressing", `partitioned rollout: ${updated} of ${count(toUpdate, "replica")} updated`);
    return health("Healthy", `partitioned rollout complete: ${count(updated, "replica")} updated`);
  }
  const updateRevision = stringAt(object, "status.updateRevision");
  const currentRevision = stringAt(object, "status.currentRevision");
  if (updateRevision !== undefined && updateRevision !== currentRevision) {
    return health("Progressing", `rollout: ${updated} of ${count(desired, "replica")} at revision ${updateRevision}`);
  }
  return health("Healthy", `${ready} of ${count(desired, "replica")} ready`);
}

/**
 * A DaemonSet: Progressing until the controller has seen the spec and every
 * scheduled pod is updated and available.
 */
export function daemonSetHealth(object: JsonObject): Health {
  // A new DaemonSet has no status until its controller saw it: "0 of 0 pods" then means nothing yet.
  if (generationPending(object, true)) return awaitingObservation(object);
  const desired = numberAt(object, "status.desiredNumberScheduled") ?? 0;
  const updated = numberAt(object, "status.updatedNumberScheduled") ?? 0;
  const available = numberAt(object, "status.numberAvailable") ?? 0;
  if ((stringAt(object, "spec.updateStrategy.type") ?? "RollingUpdate") === "OnDelete") {
    return health("Healthy", `${available} of ${count(desired, "pod")} available (pods update when deleted)`);
  }
  if (updated < desired) return health("Progressing", `rollout: ${updated} of ${count(desired, "pod")} updated`);
  if (available < desired) return health("Progressing", `${available} of ${count(desired, "pod")} available`);
  return health("Healthy", `${available} of ${count(desired, "pod")} available`);
}

/** A ReplicaSet: Degraded when its pods cannot be created, Progressing until every replica is available. */
export function replicaSetHealth(object: JsonObject): Health {
  if (generationPending(object, true)) return awaitingObservation(object);
  const failure = conditionOf(object, "ReplicaFailure");
  if (failure?.status === "True") return health("Degraded", "replicas cannot be created", failure.message || failure.reason);
  const desired = desiredReplicas(object);
  const available = numberAt(object, "status.availableReplicas") ?? 0;
  if (available < desired) return health("Progressing", `${available} of ${count(desired, "replica")} available`);
  return health("Healthy", `${available} of ${count(desired, "replica")} available`);
}
