import { displayKey } from "../core/ids.js";
import { pointerToPath } from "../core/errors.js";
import type { ResourceKey } from "../core/ids.js";
import type { JsonValue } from "../core/json.js";
import type { FieldDifference, IgnoredDifference, ObjectDiff } from "./diff-objects.js";

/** One object of a diff as clients see it: no manifests, just what changes. */
export interface DiffView {
  readonly key: ResourceKey;
  /** `same` only for an object whose sole differences are ignored ones. */
  readonly type: ObjectDiff["type"];
  readonly differences: readonly FieldDifference[];
  /** Differences ignore rules hide, each naming its rule: shown, never synced. Absent when none. */
  readonly ignored?: readonly IgnoredDifference[];
}

/** Drops the desired and live states, keeping what people and scripts read. */
export function toDiffView(diff: ObjectDiff): DiffView {
  const ignored = (diff.type === "changed" || diff.type === "same") && diff.ignored ? { ignored: diff.ignored } : {};
  return { key: diff.key, type: diff.type, differences: diff.type === "changed" ? diff.differences : [], ...ignored };
}

/** True when a sync would change the object (create, update or prune it); ignored differences change nothing. */
export function isChange(diff: Pick<DiffView, "type">): boolean {
  return diff.type !== "same";
}

/**
 * A readable, line-oriented rendering of diffs, for people: `+` create, `~`
 * change, `-` prune, `=` an object that matches Git apart from ignored fields.
 * A difference reads `live -> Git`; an ignored one `live …, Git …` with the
 * rule that hides it.
 */
export function formatDiffs(diffs: readonly DiffView[]): string {
  const lines: string[] = [];
  for (const d of diffs) {
    const name = displayKey(d.key);
    if (d.type === "missing") lines.push(`+ ${name} (will be created)`);
    else if (d.type === "orphan") lines.push(`- ${name} (no longer in Git: will be pruned when pruning is on)`);
    else if (d.type === "changed") {
      lines.push(`~ ${name}`);
      for (const f of d.differences) {
        if (f.contentDiff !== undefined) {
          lines.push(`    content (live -> Git)${f.explanation ? ` (${f.explanation})` : ""}:`);
          for (const line of f.contentDiff.split("\n")) lines.push(`      ${line}`);
        } else lines.push(`    ${pointerToPath(f.path)}: ${show(f.live)} -> ${show(f.desired)}${f.explanation ? ` (${f.explanation})` : ""}`);
      }
    } else if (d.ignored) lines.push(`= ${name} (matches Git apart from ignored fields)`);
    for (const f of d.ignored ?? []) lines.push(`    ${formatIgnored(f)}`);
  }
  return lines.join("\n");
}

/** `spec.replicas: live 5, Git 1: ignored by spec.kubernetes.ignoreDifferences[0] (kind Deployment, /spec/replicas); set by hpa (Update)` */
export function formatIgnored(f: IgnoredDifference): string {
  return `${pointerToPath(f.path)}: live ${show(f.live)}, Git ${show(f.desired)}: ignored by ${f.ignoredBy}${f.explanation ? `; ${f.explanation}` : ""}`;
}

function show(value: JsonValue | undefined): string {
  if (value === undefined) return "(absent)";
  const text = JSON.stringify(value);
  return text.length > 120 ? text.slice(0, 117) + "..." : text;
}
