import type { LoadedHealthRule } from "../config/health-rule.js";
import type { Problem } from "../core/errors.js";
import { problemAt } from "../core/errors.js";
import { groupOf } from "../core/ids.js";
import { isJsonObject } from "../core/json.js";
import type { RenderedObject } from "../core/objects.js";
import { locate } from "../core/objects.js";
import { builtInRules } from "../targets/kubernetes/health/rule-set.js";

/**
 * `group/Kind` pairs the repository knows: those named by a built-in health
 * rule, defined by a CustomResourceDefinition in the repository, or of an
 * object declared in it.
 */
export function knownKinds(objects: readonly RenderedObject[]): Set<string> {
  const known = new Set<string>();
  for (const rule of builtInRules()) for (const m of rule.match) if (!m.group.includes("*") && !m.kind.includes("*")) known.add(`${m.group}/${m.kind}`);
  for (const { manifest } of objects) {
    known.add(`${groupOf(manifest.apiVersion)}/${manifest.kind}`);
    if (manifest.kind !== "CustomResourceDefinition") continue;
    const spec = manifest["spec"];
    const names = isJsonObject(spec) ? spec["names"] : undefined;
    const group = isJsonObject(spec) ? spec["group"] : undefined;
    const kind = isJsonObject(names) ? names["kind"] : undefined;
    if (typeof group === "string" && typeof kind === "string") known.add(`${group}/${kind}`);
  }
  return known;
}

/**
 * A HealthRule match without a wildcard that names a kind the repository does
 * not know is most likely a typo (`cert-manager.io/Certficate`): a problem at
 * that match. Wildcard matches are not checked, since they are meant for
 * kinds whose definitions are installed from elsewhere (a provider's CRDs).
 */
export function unmatchedHealthRuleProblems(rules: readonly LoadedHealthRule[], objects: readonly RenderedObject[]): Problem[] {
  const known = knownKinds(objects);
  const problems: Problem[] = [];
  for (const { rule, object } of rules) {
    rule.match.forEach((m, index) => {
      if (m.group.includes("*") || m.kind.includes("*") || known.has(`${m.group}/${m.kind}`)) return;
      const field = `/spec/match/${index}`;
      const message =
        `health rule ${JSON.stringify(rule.name)} matches nothing: no built-in rule, CustomResourceDefinition or object in this repository is of kind ${m.kind} in group ${JSON.stringify(m.group)}` +
        " (check the spelling, or use a wildcard for kinds defined elsewhere)";
      problems.push(problemAt(message, locate(object.origin, field), field));
    });
  }
  return problems;
}
