import type { KindOrder } from "../kind-order.js";

/** Files go before the Services and Jobs that read them; Jobs run after the rest of their wave. */
export const hostKindOrder: KindOrder = {
  priority: { File: 2, Job: 4 },
};
