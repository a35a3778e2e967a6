/**
 * Status conditions, after the Kubernetes convention: `Ready` is always
 * present; `Reconciling` and `Stalled` only while true, and never both.
 */
export type ConditionType = "Ready" | "Reconciling" | "Stalled";
export type ConditionStatus = "True" | "False" | "Unknown";

export interface Condition {
  readonly type: ConditionType;
  readonly status: ConditionStatus;
  /** PascalCase: `Succeeded`, `RenderFailed`, `DependencyNotReady`, ... */
  readonly reason: string;
  /** Lowercase, for people. */
  readonly message: string;
  /** ISO time of the last change of status. */
  readonly lastTransitionTime: string;
}

/** Sets (or replaces) one condition, keeping lastTransitionTime when the status did not change. */
export function setCondition(
  conditions: readonly Condition[],
  next: Omit<Condition, "lastTransitionTime">,
  now: Date,
): Condition[] {
  const previous = conditions.find((c) => c.type === next.type);
  const lastTransitionTime = previous && previous.status === next.status ? previous.lastTransitionTime : now.toISOString();
  const rest = conditions.filter((c) => c.type !== next.type);
  return sortConditions([...rest, { ...next, lastTransitionTime }]);
}

/** Removes a condition. */
export function removeCondition(conditions: readonly Condition[], type: ConditionType): Condition[] {
  return conditions.filter((c) => c.type !== type);
}

/** Finds a condition by type. */
export function findCondition(conditions: readonly Condition[], type: ConditionType): Condition | undefined {
  return conditions.find((c) => c.type === type);
}

const ORDER: readonly ConditionType[] = ["Ready", "Reconciling", "Stalled"];
function sortConditions(conditions: Condition[]): Condition[] {
  return conditions.sort((a, b) => ORDER.indexOf(a.type) - ORDER.indexOf(b.type));
}
