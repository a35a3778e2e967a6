import type { Health } from "../../../core/health.js";
import type { JsonObject } from "../../../core/json.js";
import { awaitingObservation, conditionOf, generationPending, health, isTrue, objectAt } from "./fields.js";

/**
 * Any other kind, by the conventions most controllers follow: Suspended while
 * `spec.suspend` is true (CronJob, Flux objects); Progressing while
 * `status.observedGeneration` lags `metadata.generation`; then, as kstatus
 * reads them, `Stalled=True` is Degraded, `Reconciling=True` and
 * `Ready=False` or `Unknown` are Progressing, `Ready=True` is Healthy. An
 * object without a status (a ConfigMap, a Secret) is Healthy as soon as it exists.
 */
export function genericHealth(object: JsonObject): Health {
  if (isTrue(object, "spec.suspend")) return health("Suspended", "suspended");
  if (!objectAt(object, "status")) return health("Healthy", "exists");
  if (generationPending(object)) return awaitingObservation(object);
  const stalled = conditionOf(object, "Stalled");
  if (stalled?.status === "True") return health("Degraded", `stalled${stalled.reason ? ` (${stalled.reason})` : ""}`, stalled.message);
  const reconciling = conditionOf(object, "Reconciling");
  if (reconciling?.status === "True") return health("Progressing", "reconciling", reconciling.message);
  const ready = conditionOf(object, "Ready");
  // kstatus: Ready=False alone is a controller still working; only Stalled says it gave up.
  if (ready?.status === "False") return health("Progressing", `not ready${ready.reason ? ` (${ready.reason})` : ""}`, ready.message);
  if (ready?.status === "Unknown") return health("Progressing", "readiness is not known yet", ready.message);
  if (ready?.status === "True") return health("Healthy", "ready", ready.message);
  return health("Healthy", "exists");
}
