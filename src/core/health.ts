/**
 * Health of an object or application, ordered from best to worst, so the
 * health of a set is the worst of its members.
 */
export type HealthStatus = "Healthy" | "Suspended" | "Progressing" | "Missing" | "Degraded" | "Unknown";

/** Best to worst. */
export const HEALTH_ORDER: readonly HealthStatus[] = ["Healthy", "Suspended", "Progressing", "Missing", "Degraded", "Unknown"];

/** A health status with the reason people need to act on it. */
export interface Health {
  readonly status: HealthStatus;
  /** Lowercase, says which object and why, e.g. `service exited with code 1`. */
  readonly message: string;
}

/** Returns the worse of two statuses. */
export function worseHealth(a: HealthStatus, b: HealthStatus): HealthStatus {
  return HEALTH_ORDER.indexOf(a) >= HEALTH_ORDER.indexOf(b) ? a : b;
}

/** Health of a whole: the worst member, with its message; Healthy when empty. */
export function aggregateHealth(members: readonly { readonly name: string; readonly health: Health }[]): Health {
  let worst: { readonly name: string; readonly health: Health } | undefined;
  for (const member of members) {
    if (!worst || HEALTH_ORDER.indexOf(member.health.status) > HEALTH_ORDER.indexOf(worst.health.status)) worst = member;
  }
  if (!worst || worst.health.status === "Healthy") return { status: "Healthy", message: "all objects are healthy" };
  return { status: worst.health.status, message: `${worst.name}: ${worst.health.message}` };
}
