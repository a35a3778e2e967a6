import { displayKey } from "../core/ids.js";
import { pointerToPath } from "../core/errors.js";
import type { ResourceKey } from "../core/ids.js";
import type { JsonValue } from "../core/json.js";
import type { FieldDifference, ObjectDiff } from "./diff-objects.js";

/** One object of a diff as clients see it: no manifests, just what changes. */
export interface DiffView {
  readonly key: ResourceKey;
  readonly type: ObjectDiff["type"];
  readonly differences: readonly FieldDifference[];
}

/** Drops the desired and live states, keeping what people and scripts read. */
export function toDiffView(diff: ObjectDiff): DiffView {
  return { key: diff.key, type: diff.type, differences: diff.type === "changed" ? diff.differences : [] };
}

/** A readable, line-oriented rendering of diffs, for people: `+` create, `~` change, `-` prune. */
export function formatDiffs(diffs: readonly DiffView[]): string {
  const lines: string[] = [];
  for (const d of diffs) {
    const name = displayKey(d.key);
    if (d.type === "missing") lines.push(`+ ${name} (will be created)`);
    else if (d.type === "orphan") lines.push(`- ${name} (no longer in Git: will be pruned when pruning is on)`);
    else if (d.type === "changed") {
      lines.push(`~ ${name}`);
      for (const f of d.differences) lines.push(`    ${pointerToPath(f.path)}: ${show(f.live)} -> ${show(f.desired)}${f.explanation ? ` (${f.explanation})` : ""}`);
    }
  }
  return lines.join("\n");
}

function show(value: JsonValue | undefined): string {
  if (value === undefined) return "(absent)";
  const text = JSON.stringify(value);
  return text.length > 120 ? text.slice(0, 117) + "..." : text;
}
