import type { SourceLocation } from "./location.js";
import { formatLocation } from "./location.js";

/**
 * What the reconcile loop should do about an error:
 * - `stalled`: do not retry until the input (the revision) changes;
 * - `waiting`: retry after a delay (a dependency is not ready yet);
 * - `transient`: retry with backoff (network, a busy target).
 */
export type ErrorDisposition = "stalled" | "waiting" | "transient";

/** One problem found in the input: what is wrong and, where known, the file, line and field. */
export interface Problem {
  readonly severity: "error" | "warning";
  /** Lowercase, actionable, no secrets. */
  readonly message: string;
  readonly location?: SourceLocation;
  /** JSON pointer of the offending field inside its document, e.g. `/spec/command`. */
  readonly field?: string;
}

/** `file:line:col: field: message` — the one way problems are printed. */
export function formatProblem(problem: Problem): string {
  const where = problem.location ? `${formatLocation(problem.location)}: ` : "";
  const field = problem.field ? `${pointerToPath(problem.field)}: ` : "";
  return `${where}${field}${problem.message}`;
}

/** `/spec/args/0` -> `spec.args[0]`, the form people read. */
export function pointerToPath(pointer: string): string {
  if (pointer === "") return "(document)";
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s, i) => (/^\d+$/.test(s) ? `[${s}]` : i === 0 ? s : `.${s}`))
    .join("");
}

/**
 * An error the engine knows how to handle. `reason` is a PascalCase word for
 * conditions and metrics (`RenderFailed`, `DependencyNotReady`, ...).
 */
export class FerryError extends Error {
  override readonly name = "FerryError";
  readonly disposition: ErrorDisposition;
  readonly reason: string;
  readonly problems: readonly Problem[];

  constructor(
    disposition: ErrorDisposition,
    reason: string,
    message: string,
    options: { problems?: readonly Problem[]; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.disposition = disposition;
    this.reason = reason;
    this.problems = options.problems ?? [];
  }
}

/** An error caused by the input at one revision: retrying the same revision cannot help. */
export function stalled(reason: string, message: string, options?: { problems?: readonly Problem[]; cause?: unknown }): FerryError {
  return new FerryError("stalled", reason, message, options);
}

/** An error that goes away by itself: retry with backoff. */
export function transient(reason: string, message: string, options?: { cause?: unknown }): FerryError {
  return new FerryError("transient", reason, message, options);
}

/** Something the run must wait for. */
export function waiting(reason: string, message: string): FerryError {
  return new FerryError("waiting", reason, message);
}

/** Wraps anything thrown into a FerryError, keeping the cause. Unknown errors are transient. */
export function toFerryError(error: unknown, reason = "InternalError"): FerryError {
  if (error instanceof FerryError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new FerryError("transient", reason, message, { cause: error });
}

/** Builds a problem at a location. */
export function problemAt(message: string, location?: SourceLocation, field?: string): Problem {
  return { severity: "error", message, ...(location ? { location } : {}), ...(field !== undefined ? { field } : {}) };
}
