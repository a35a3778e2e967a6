import type { Health } from "../../../core/health.js";
import { groupOf } from "../../../core/ids.js";
import type { JsonObject } from "../../../core/json.js";
import { stringAt, health } from "./fields.js";
import { genericHealth } from "./generic.js";
import type { HealthRule, HealthRuleSpec, HealthVerdict } from "./rule.js";
import { compileHealthRule, matchesKind } from "./rule.js";
import { BUILT_IN_RULE_SPECS } from "./rules/index.js";
import { NATIVE_RULES } from "./rules/native.js";

/** The name `ferry health` gives the fallback for kinds no rule matches. */
export const GENERIC_RULE = "kstatus (generic conditions)";

/**
 * The rules health is assessed by: the user's HealthRules first, then the
 * built-in ones; within each, a match entry without a wildcard before one
 * with, and among wildcards the one with more literal characters
 * (`*.crossplane.io/*ProviderConfig*` before `*.crossplane.io/*`), then the
 * order given; then the generic kstatus rule. The rule of a kind is looked
 * up once and kept.
 */
export class HealthRuleSet {
  readonly #user: readonly HealthRule[];
  readonly #builtIn: readonly HealthRule[];
  readonly #byKind = new Map<string, HealthRule | null>();

  constructor(user: readonly HealthRule[], builtIn: readonly HealthRule[]) {
    this.#user = user;
    this.#builtIn = builtIn;
  }

  /** The built-in rules alone. */
  static builtIn(): HealthRuleSet {
    builtInSet ??= new HealthRuleSet([], builtInRules());
    return builtInSet;
  }

  /** The built-in rules with the user's rules before them. */
  static withUserRules(user: readonly HealthRule[]): HealthRuleSet {
    return user.length === 0 ? HealthRuleSet.builtIn() : new HealthRuleSet(user, builtInRules());
  }

  /** The rule that decides the health of objects of that group and kind, if any. */
  ruleFor(group: string, kind: string): HealthRule | undefined {
    const key = `${group}/${kind}`;
    let rule = this.#byKind.get(key);
    if (rule === undefined) {
      rule = bestMatch(this.#user, group, kind) ?? bestMatch(this.#builtIn, group, kind) ?? null;
      this.#byKind.set(key, rule);
    }
    return rule ?? undefined;
  }

  /**
   * The health of one live object and the rule that decided it. An object
   * being deleted is Progressing whatever its rule says; a rule that fails
   * gives Unknown with the reason. Pure.
   */
  assess(object: JsonObject): HealthVerdict {
    const kind = stringAt(object, "kind") ?? "";
    const group = groupOf(stringAt(object, "apiVersion") ?? "");
    if (stringAt(object, "metadata.deletionTimestamp")) return { health: health("Progressing", "terminating"), rule: "terminating (metadata.deletionTimestamp)" };
    const rule = this.ruleFor(group, kind);
    const name = rule ? `${rule.name} (${rule.source})` : GENERIC_RULE;
    try {
      return { health: rule ? rule.assess(object) : genericHealth(object), rule: name };
    } catch (error) {
      // The readers never throw on odd fields; this keeps one broken object from hiding the others.
      return { health: health("Unknown", "health could not be assessed", (error as Error).message), rule: name };
    }
  }

  /** Health alone, for callers that do not show the rule. */
  health(object: JsonObject): Health {
    return this.assess(object).health;
  }
}

/** The rule of the most specific entry matching that kind: exact first, then the most literal characters, then the first given. */
function bestMatch(rules: readonly HealthRule[], group: string, kind: string): HealthRule | undefined {
  let best: { rule: HealthRule; score: number } | undefined;
  for (const rule of rules) {
    for (const m of rule.match) {
      if (!matchesKind(m, group, kind)) continue;
      const wildcard = m.group.includes("*") || m.kind.includes("*");
      const score = wildcard ? (m.group + m.kind).replaceAll("*", "").length : Number.MAX_SAFE_INTEGER;
      if (!best || score > best.score) best = { rule, score };
    }
  }
  return best?.rule;
}

let builtInSet: HealthRuleSet | undefined;
let compiledBuiltIns: readonly HealthRule[] | undefined;

/** The built-in rules: the core kinds' functions and the CEL rules shipped with Ferry, compiled once. */
export function builtInRules(): readonly HealthRule[] {
  compiledBuiltIns ??= [...NATIVE_RULES, ...BUILT_IN_RULE_SPECS.map(compileBuiltIn)];
  return compiledBuiltIns;
}

function compileBuiltIn(spec: HealthRuleSpec): HealthRule {
  const compiled = compileHealthRule(spec, "built-in");
  if ("errors" in compiled) throw new Error(`built-in health rule ${spec.name}: ${compiled.errors.map((e) => `${e.field}: ${e.message}`).join("; ")}`);
  return compiled.rule;
}
