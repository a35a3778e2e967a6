import type { Health } from "../../../core/health.js";
import type { JsonObject } from "../../../core/json.js";
import { conditionOf, conditionsOf, health } from "./fields.js";

/**
 * A CustomResourceDefinition: Degraded when its names are refused or its
 * schema is not structural, Progressing while it is being deleted or until it
 * is Established (objects of its kind can only be created after that),
 * Healthy once Established.
 */
export function customResourceDefinitionHealth(crd: JsonObject): Health {
  if (conditionsOf(crd).length === 0) return health("Progressing", "waiting for the definition to be accepted");
  const terminating = conditionOf(crd, "Terminating");
  if (terminating?.status === "True") return health("Progressing", "definition is being deleted", terminating.message);
  const names = conditionOf(crd, "NamesAccepted");
  if (names?.status === "False") return health("Degraded", "names were not accepted", names.message || names.reason);
  const structural = conditionOf(crd, "NonStructuralSchema");
  if (structural?.status === "True") return health("Degraded", "schema is not structural", structural.message);
  const established = conditionOf(crd, "Established");
  if (established?.status !== "True") return health("Progressing", "waiting for the definition to be established", established?.message);
  return health("Healthy", "definition is established");
}
