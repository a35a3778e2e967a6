import type { Health } from "../../../core/health.js";
import type { JsonObject } from "../../../core/json.js";
import { health, stringAt } from "./fields.js";

/** A PersistentVolumeClaim by phase: Bound is Healthy, Pending Progressing, Lost Degraded. */
export function persistentVolumeClaimHealth(claim: JsonObject): Health {
  const phase = stringAt(claim, "status.phase");
  switch (phase) {
    case "Bound":
      return health("Healthy", `claim is bound to volume ${stringAt(claim, "spec.volumeName") ?? "(unnamed)"}`);
    case undefined:
    case "Pending":
      return health("Progressing", "claim is pending: waiting for a volume");
    case "Lost":
      return health("Degraded", "claim lost its volume");
    default:
      return health("Unknown", `claim is in phase ${phase}`);
  }
}
