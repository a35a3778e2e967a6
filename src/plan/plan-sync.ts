import type { ResourceKey } from "../core/ids.js";
import { parseResourceKey } from "../core/ids.js";
import type { RenderedObject } from "../core/objects.js";
import { ANNOTATIONS } from "../core/objects.js";
import type { FieldDifference, ObjectDiff } from "../diff/diff-objects.js";
import type { KindOrder } from "../targets/kind-order.js";

/** Why an object is applied. */
export type ApplyReason = "create" | "update";

/** One object to create or update. */
export interface ApplyAction {
  readonly key: ResourceKey;
  readonly reason: ApplyReason;
  readonly object: RenderedObject;
  readonly differences: readonly FieldDifference[];
}

/** Objects applied together; a wave becomes healthy before the next one starts. */
export interface Wave {
  readonly wave: number;
  /**
   * True for the definition kinds of a wave (the kind order's `definitions`):
   * they are applied, and waited for, before the rest of it.
   */
  readonly definitions?: true;
  readonly actions: readonly ApplyAction[];
}

/** One object to delete because it left Git. */
export interface PruneAction {
  readonly key: ResourceKey;
}

/** An orphan that is not deleted, and why. */
export interface KeptOrphan {
  readonly key: ResourceKey;
  readonly reason: "PruneDisabled" | "PruneAnnotation";
}

/** What a sync will do. Readonly data, computed without I/O. */
export interface SyncPlan {
  readonly waves: readonly Wave[];
  readonly prune: readonly PruneAction[];
  readonly kept: readonly KeptOrphan[];
  readonly unchanged: readonly ResourceKey[];
}

/** Options that decide what the plan may do. */
export interface PlanOptions {
  /** Delete orphans (objects that left Git). */
  readonly prune: boolean;
  /** Annotations of orphans as they were last applied, to honour `ferry.dev/prune: disabled`. */
  readonly orphanAnnotations?: ReadonlyMap<ResourceKey, Readonly<Record<string, string>>>;
  /** How kinds are ordered inside a wave: the targets' kind orders, merged (see src/targets/registry.ts). */
  readonly kindOrder: KindOrder;
}

/** Kinds the kind order does not list follow every listed one, in key order. */
const DEFAULT_PRIORITY = Number.MAX_SAFE_INTEGER;

/**
 * Turns diffs into ordered actions: applies grouped by wave (annotation
 * `ferry.dev/wave`, default 0), ordered by kind inside a wave; prunes in the
 * reverse order. Pure.
 */
export function planSync(diffs: readonly ObjectDiff[], options: PlanOptions): SyncPlan {
  const compareKeys = keyComparator(options.kindOrder);
  const definitionKinds: ReadonlySet<string> = new Set(options.kindOrder.definitions ?? []);
  const byWave = new Map<number, ApplyAction[]>();
  const prune: PruneAction[] = [];
  const kept: KeptOrphan[] = [];
  const unchanged: ResourceKey[] = [];
  for (const d of diffs) {
    if (d.type === "same") unchanged.push(d.key);
    else if (d.type === "orphan") {
      const annotations = options.orphanAnnotations?.get(d.key);
      if (annotations?.[ANNOTATIONS.prune] === "disabled") kept.push({ key: d.key, reason: "PruneAnnotation" });
      else if (!options.prune) kept.push({ key: d.key, reason: "PruneDisabled" });
      else if (d.live) prune.push({ key: d.key });
    } else {
      const object = d.desired.object;
      const wave = waveOf(object);
      const action: ApplyAction = {
        key: d.key,
        reason: d.type === "missing" ? "create" : "update",
        object,
        differences: d.type === "changed" ? d.differences : [],
      };
      byWave.set(wave, [...(byWave.get(wave) ?? []), action]);
    }
  }
  const waves = [...byWave.entries()]
    .sort(([a], [b]) => a - b)
    .flatMap(([wave, actions]) => splitDefinitions(wave, actions.sort((a, b) => compareKeys(a.key, b.key)), definitionKinds));
  return { waves, prune: prune.sort((a, b) => -compareKeys(a.key, b.key)), kept, unchanged };
}

/** True when the plan changes nothing. */
export function isEmptyPlan(plan: SyncPlan): boolean {
  return plan.waves.length === 0 && plan.prune.length === 0;
}

/** The wave of an object: its `ferry.dev/wave` annotation as an integer, else 0. */
export function waveOf(object: RenderedObject): number {
  const raw = object.manifest.metadata.annotations?.[ANNOTATIONS.wave];
  if (raw === undefined) return 0;
  const n = Number(raw);
  return Number.isInteger(n) ? n : 0;
}

/** A wave with both definitions and other objects becomes two: the definitions, then the rest. */
function splitDefinitions(wave: number, actions: readonly ApplyAction[], definitionKinds: ReadonlySet<string>): Wave[] {
  const definitions = actions.filter((a) => definitionKinds.has(parseResourceKey(a.key).kind));
  if (definitions.length === 0 || definitions.length === actions.length) return [{ wave, actions }];
  return [
    { wave, definitions: true, actions: definitions },
    { wave, actions: actions.filter((a) => !definitionKinds.has(parseResourceKey(a.key).kind)) },
  ];
}

/** Kinds that others depend on go first; the rest follow in key order. */
function keyComparator(order: KindOrder): (a: ResourceKey, b: ResourceKey) => number {
  return (a, b) => {
    const pa = order.priority[parseResourceKey(a).kind] ?? DEFAULT_PRIORITY;
    const pb = order.priority[parseResourceKey(b).kind] ?? DEFAULT_PRIORITY;
    if (pa !== pb) return pa - pb;
    return a < b ? -1 : a > b ? 1 : 0;
  };
}
