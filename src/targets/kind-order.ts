/**
 * How a target orders its kinds inside a wave: kinds that others depend on
 * go first. Each target declares its own; the planner merges them and knows
 * no kind by name.
 */
export interface KindOrder {
  /** Priority by kind (lower first); kinds not listed come after every listed one. */
  readonly priority: Readonly<Record<string, number>>;
  /** Kinds applied, and waited for, before the rest of their wave (a Kubernetes Namespace). */
  readonly definitions?: readonly string[];
}

/** The merged order of several targets; a kind two targets both list takes the lower priority. */
export function mergeKindOrders(orders: readonly KindOrder[]): KindOrder {
  const priority: Record<string, number> = {};
  const definitions = new Set<string>();
  for (const order of orders) {
    for (const [kind, value] of Object.entries(order.priority)) priority[kind] = Math.min(priority[kind] ?? value, value);
    for (const kind of order.definitions ?? []) definitions.add(kind);
  }
  return { priority, definitions: [...definitions] };
}
