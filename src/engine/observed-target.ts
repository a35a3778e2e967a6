import type { Target } from "../targets/target.js";

/** The calls of a target that reach what it manages (the machine, an API server). */
export type TargetVerb = "describe" | "read" | "apply" | "delete" | "health";

/** One call to a target, as metrics count it. */
export interface TargetCall {
  readonly target: string;
  readonly verb: TargetVerb;
  readonly outcome: "ok" | "error";
  readonly durationMs: number;
}

/** Told about every call to a target, after it ends. */
export type TargetCallObserver = (call: TargetCall) => void;

const OBSERVED: ReadonlySet<string> = new Set<TargetVerb>(["describe", "read", "apply", "delete", "health"]);

/**
 * The target with its calls (describe, read, apply, delete, health) reported
 * to `observe`, timed and with their outcome; everything else passes through
 * untouched. One wrapper for every target, so no target counts for itself.
 */
export function observeTargetCalls(target: Target, observe: TargetCallObserver, now: () => number = Date.now): Target {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value: unknown = Reflect.get(object, property, receiver);
      if (typeof value !== "function") return value;
      const method = value as (...args: unknown[]) => unknown;
      if (typeof property !== "string" || !OBSERVED.has(property)) return method.bind(object);
      const verb = property as TargetVerb;
      return async (...args: unknown[]): Promise<unknown> => {
        const started = now();
        const report = (outcome: "ok" | "error"): void => {
          try {
            observe({ target: object.name, verb, outcome, durationMs: now() - started });
          } catch {
            // Counting never breaks a sync.
          }
        };
        try {
          const result = await method.apply(object, args);
          report("ok");
          return result;
        } catch (error) {
          report("error");
          throw error;
        }
      };
    },
  });
}
