import { hostEntry } from "./host/entry.js";
import type { KindOrder } from "./kind-order.js";
import { mergeKindOrders } from "./kind-order.js";
import { kubernetesEntry } from "./kubernetes/entry.js";
import type { TargetEntry } from "./registry-types.js";

export type { TargetAgentOptions, TargetEntry, TargetSettingsSchema, ValidatorOptions } from "./registry-types.js";

/**
 * Every kind of target Ferry knows. The agent creates its targets from it,
 * `ferry validate` takes its validators, the Application schema its
 * `spec.<target>` settings, the planner its kind order and the editor schema
 * its kinds. Adding a target: a folder under src/targets/, its entry here,
 * and a conformance test (see docs/architecture.md).
 */
export const TARGETS: readonly TargetEntry[] = [hostEntry, kubernetesEntry];

/** The kind order the planner uses: every target's, merged. */
export const PLANNING_ORDER: KindOrder = mergeKindOrders(TARGETS.map((t) => t.kindOrder));
