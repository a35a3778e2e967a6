import type { HealthRuleSpec } from "../rule.js";
import { ARGO_RULES } from "./argo.js";
import { CERT_MANAGER_RULES } from "./cert-manager.js";
import { CLUSTER_API_RULES } from "./cluster-api.js";
import { CORE_RULES } from "./core.js";
import { CROSSPLANE_RULES } from "./crossplane.js";
import { CLOUDNATIVE_PG_RULES, ISTIO_RULES } from "./databases-mesh.js";
import { FLUX_RULES } from "./flux.js";
import { PROMETHEUS_RULES, SCALING_RULES, STRIMZI_RULES } from "./operators.js";
import { SECRET_RULES } from "./secrets.js";

/** Every built-in CEL rule, in the HealthRule form users write; a user's rule for the same kind comes first. */
export const BUILT_IN_RULE_SPECS: readonly HealthRuleSpec[] = [
  ...CORE_RULES,
  ...ARGO_RULES,
  ...CERT_MANAGER_RULES,
  ...SECRET_RULES,
  ...FLUX_RULES,
  ...CROSSPLANE_RULES,
  ...SCALING_RULES,
  ...STRIMZI_RULES,
  ...PROMETHEUS_RULES,
  ...CLUSTER_API_RULES,
  ...CLOUDNATIVE_PG_RULES,
  ...ISTIO_RULES,
];
