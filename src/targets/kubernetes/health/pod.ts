import type { Health } from "../../../core/health.js";
import type { JsonObject } from "../../../core/json.js";
import { conditionOf, health, numberAt, objectAt, objectsAt, stringAt } from "./fields.js";

/** Waiting reasons that will not clear by themselves: CrashLoopBackOff, ImagePullBackOff, ErrImagePull, CreateContainerConfigError, ... */
function isStuckReason(reason: string): boolean {
  return reason.startsWith("Err") || reason.endsWith("Error") || reason.endsWith("BackOff");
}

/** The first container (init containers first) waiting for a reason that will not clear, with what it says. */
function stuckContainer(pod: JsonObject): string | undefined {
  for (const status of [...objectsAt(pod, "status.initContainerStatuses"), ...objectsAt(pod, "status.containerStatuses")]) {
    const reason = stringAt(status, "state.waiting.reason") ?? "";
    if (!isStuckReason(reason)) continue;
    const name = stringAt(status, "name") ?? "?";
    const message = stringAt(status, "state.waiting.message");
    return `container ${name} is in ${reason}${message ? `: ${message}` : ""}`;
  }
  return undefined;
}

/** Why a failed pod failed: the pod's message, else the first container that terminated badly. */
function failure(pod: JsonObject): string {
  const message = stringAt(pod, "status.message");
  if (message) return message;
  for (const status of [...objectsAt(pod, "status.initContainerStatuses"), ...objectsAt(pod, "status.containerStatuses")]) {
    const terminated = objectAt(status, "state.terminated");
    if (!terminated) continue;
    const name = stringAt(status, "name") ?? "?";
    const text = stringAt(terminated, "message");
    if (text) return `container ${name}: ${text}`;
    if (stringAt(terminated, "reason") === "OOMKilled") return `container ${name} was killed for running out of memory`;
    const code = numberAt(terminated, "exitCode");
    if (code !== undefined && code !== 0) return `container ${name} exited with code ${code}`;
  }
  return "";
}

/**
 * A Pod, by phase. A pod that restarts forever (restartPolicy Always) is
 * Degraded as soon as a container is stuck in a back-off or an error, Healthy
 * once Ready, and Degraded when not ready after a container terminated. A
 * pod with a finite life (OnFailure, Never) is Progressing while it runs and
 * Healthy once it succeeded.
 */
export function podHealth(pod: JsonObject): Health {
  const restartPolicy = stringAt(pod, "spec.restartPolicy") ?? "Always";
  const phase = stringAt(pod, "status.phase");
  const podMessage = stringAt(pod, "status.message");
  if (restartPolicy === "Always" && phase !== "Succeeded" && phase !== "Failed") {
    const stuck = stuckContainer(pod);
    if (stuck) return health("Degraded", stuck);
  }
  switch (phase) {
    case undefined:
    case "Pending":
      return health("Progressing", "pod is pending", podMessage);
    case "Succeeded":
      return health("Healthy", "pod succeeded", podMessage);
    case "Failed":
      return health("Degraded", "pod failed", failure(pod));
    case "Running": {
      if (restartPolicy !== "Always") return health("Progressing", "pod is running to completion", podMessage);
      if (conditionOf(pod, "Ready")?.status === "True") return health("Healthy", "pod is running and ready");
      const restarted = objectsAt(pod, "status.containerStatuses").find((s) => objectAt(s, "lastState.terminated") !== undefined);
      if (restarted) return health("Degraded", `pod is not ready: container ${stringAt(restarted, "name") ?? "?"} restarted`, podMessage);
      return health("Progressing", "pod is running, not ready yet", podMessage);
    }
    default:
      return health("Unknown", `pod is in phase ${phase}`, podMessage);
  }
}
