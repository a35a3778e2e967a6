import type { Health } from "../../../core/health.js";
import type { JsonObject } from "../../../core/json.js";
import { conditionsOf, health, isTrue } from "./fields.js";

/** A Job: Healthy once Complete, Degraded once Failed, Suspended while `spec.suspend`, else Progressing. */
export function jobHealth(job: JsonObject): Health {
  const conditions = conditionsOf(job).filter((c) => c.status === "True");
  const failed = conditions.find((c) => c.type === "Failed");
  if (failed) return health("Degraded", "job failed", failed.message || failed.reason);
  const complete = conditions.find((c) => c.type === "Complete");
  if (complete) return health("Healthy", "job completed", complete.message);
  if (isTrue(job, "spec.suspend")) return health("Suspended", "job is suspended");
  return health("Progressing", "job is running");
}
