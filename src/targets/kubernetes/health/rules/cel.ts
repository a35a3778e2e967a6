import type { HealthRuleSpec, KindMatch } from "../rule.js";

/**
 * Small builders of CEL text for the built-in rules. They only write
 * expressions; each rule is still plain data of the HealthRule form.
 */

const quote = (text: string): string => `'${text.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;

/** `true` when the condition of that type has that status. */
export function cond(type: string, status: "True" | "False" | "Unknown" | string): string {
  return `(${quote(type)} in conditions && conditions[${quote(type)}].status == ${quote(status)})`;
}

/** `true` when the condition of that type has one of those reasons (with any status unless given). */
export function reason(type: string, reasons: readonly string[], status?: string): string {
  const at = `conditions[${quote(type)}]`;
  const withStatus = status === undefined ? "" : ` && ${at}.status == ${quote(status)}`;
  return `(${quote(type)} in conditions${withStatus} && ${at}.reason in [${reasons.map(quote).join(", ")}])`;
}

/** The string field at a path under `status` or `spec` (`status.phase`), or "" when absent. */
export function field(path: string): string {
  const [root = "", ...rest] = path.split(".");
  const guards: string[] = [];
  let at = root;
  for (const part of rest) {
    at = `${at}.${part}`;
    guards.push(`has(${at})`);
  }
  return `(${guards.join(" && ")} ? string(${at}) : '')`;
}

/** True when the boolean at a path under `spec` or `status` is true. */
export function flag(path: string): string {
  const [root = "", ...rest] = path.split(".");
  const guards: string[] = [];
  let at = root;
  for (const part of rest) {
    at = `${at}.${part}`;
    guards.push(`has(${at})`);
  }
  return `(${guards.join(" && ")} && ${at} == true)`;
}

/** `"not ready (Reason): message"`, the way kstatus and `kubectl get` show a condition. */
export function conditionMessage(type: string, word: string): string {
  const at = `conditions[${quote(type)}]`;
  return `${quote(word)} + (${at}.reason != '' ? ' (' + ${at}.reason + ')' : '') + (${at}.message != '' ? ': ' + ${at}.message : '')`;
}

/** A message naming the Stalled or Reconciling condition when true, else the given condition, else `fallback`. */
export function readyMessage(type = "Ready", fallback = `'waiting for the ${type} condition'`): string {
  return (
    `health == 'Suspended' ? 'suspended' : ${cond("Stalled", "True")} ? ${conditionMessage("Stalled", "stalled")} : ` +
    `${cond("Reconciling", "True")} ? ${conditionMessage("Reconciling", "reconciling")} : ` +
    `${quote(type)} in conditions ? (${cond(type, "True")} ? ${conditionMessage(type, "ready")} : ${conditionMessage(type, "not ready")}) : ${fallback}`
  );
}

/** Every `group/kind` pair, one match entry each. */
export function kinds(group: string, ...names: string[]): KindMatch[] {
  return names.map((kind) => ({ group, kind }));
}

/**
 * The rule of kinds that follow the Ready-condition convention: Healthy
 * once Ready=True; Degraded when Stalled=True or Ready=False for one of the
 * kind's failure reasons; otherwise Progressing (kstatus: Ready=False alone
 * is a controller still working).
 */
export function readyRule(options: {
  readonly name: string;
  readonly match: readonly KindMatch[];
  readonly failureReasons?: readonly string[];
  readonly suspended?: string;
  readonly degraded?: string;
  /** Said when `degraded` holds. */
  readonly degradedMessage?: string;
  readonly type?: string;
}): HealthRuleSpec {
  const type = options.type ?? "Ready";
  const failures = options.failureReasons && options.failureReasons.length > 0 ? ` || ${reason(type, options.failureReasons, "False")}` : "";
  const extra = options.degraded ? ` || ${options.degraded}` : "";
  return {
    name: options.name,
    match: options.match,
    ...(options.suspended ? { suspended: options.suspended } : {}),
    degraded: `${cond("Stalled", "True")}${failures}${extra}`,
    progressing: `!${cond(type, "True")} || ${cond("Reconciling", "True")}`,
    healthy: cond(type, "True"),
    message: options.degraded && options.degradedMessage ? `health == 'Degraded' && (${options.degraded}) ? ${options.degradedMessage} : ${readyMessage(type)}` : readyMessage(type),
  };
}
