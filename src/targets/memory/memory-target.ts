import { stalled } from "../../core/errors.js";
import type { Problem } from "../../core/errors.js";
import type { Health } from "../../core/health.js";
import type { ResourceKey } from "../../core/ids.js";
import { displayKey } from "../../core/ids.js";
import type { JsonValue } from "../../core/json.js";
import { canonicalJson, isJsonObject } from "../../core/json.js";
import type { RenderedObject } from "../../core/objects.js";
import { locate } from "../../core/objects.js";
import type { ApplyOutcome, Comparable, LiveChange, LiveObject, ObjectContext, Target } from "../target.js";

/** A kind the memory target manages. */
export interface MemoryKind {
  readonly apiVersion: string;
  readonly kind: string;
}

/** The kind every memory target manages. */
export const THING: MemoryKind = { apiVersion: "test.ferry.dev/v1", kind: "Thing" };

/** Options of the memory target. */
export interface MemoryTargetOptions {
  /** Target name; default `memory`. */
  readonly name?: string;
  /** Kinds managed besides `test.ferry.dev/v1` `Thing`. */
  readonly kinds?: readonly MemoryKind[];
  /** Artificial latency of read, apply, delete and health, in milliseconds; default 0 (one microtask). */
  readonly delayMs?: number;
}

/** How often one operation was called: in all, and per key it named. */
export interface CallCount {
  readonly total: number;
  readonly byKey: ReadonlyMap<ResourceKey, number>;
}

/** Calls counted per operation. `write` counts applies and deletes that changed the store. */
export interface MemoryCalls {
  readonly apply: CallCount;
  readonly delete: CallCount;
  readonly read: CallCount;
  readonly describe: CallCount;
  readonly write: CallCount;
}

/** A Target that keeps live objects in memory, with knobs for tests. */
export interface MemoryTarget extends Target {
  /** Live objects by key, as read() would return them. */
  readonly live: ReadonlyMap<ResourceKey, LiveObject>;
  readonly calls: MemoryCalls;
  /** True once close() was called. */
  readonly closed: boolean;
  /** Sets every call count back to zero. */
  resetCalls(): void;
  /** Makes every apply of `key` throw `error` until cleared. */
  failApply(key: ResourceKey, error: Error): void;
  /** Makes every delete of `key` throw `error` until cleared. */
  failDelete(key: ResourceKey, error: Error): void;
  /** Clears the failures of one key, or of all keys. */
  clearFailures(key?: ResourceKey): void;
  /** Health reported for `key` while it is live (default Healthy); undefined restores the default. Tells watchers when the object is live. */
  setHealth(key: ResourceKey, health: Health | undefined): void;
  /** Changes the live spec behind Ferry's back and tells watchers. Throws when the object is not live. */
  tamper(key: ResourceKey): void;
}

/** Creates an empty memory target. */
export function createMemoryTarget(options: MemoryTargetOptions = {}): MemoryTarget {
  const name = options.name ?? "memory";
  const kinds = [THING, ...(options.kinds ?? [])];
  const live = new Map<ResourceKey, LiveObject>();
  const healthOverrides = new Map<ResourceKey, Health>();
  const applyFailures = new Map<ResourceKey, Error>();
  const deleteFailures = new Map<ResourceKey, Error>();
  const listeners = new Set<(change: LiveChange) => void>();
  let calls = emptyCalls();
  let tampers = 0;
  let closed = false;

  const settle = (): Promise<void> =>
    options.delayMs ? new Promise((resolve) => setTimeout(resolve, options.delayMs)) : Promise.resolve();
  const notify = (change: LiveChange): void => {
    for (const listener of [...listeners]) listener(change);
  };
  const supports = (apiVersion: string, kind: string): boolean =>
    kinds.some((k) => k.apiVersion === apiVersion && k.kind === kind);
  const checkOwner = (key: ResourceKey, application: string, verb: string): void => {
    const owner = live.get(key)?.owner;
    if (owner !== undefined && owner !== application) {
      throw stalled("NotOwned", `cannot ${verb} ${displayKey(key)}: it belongs to application "${owner}", not "${application}"`);
    }
  };

  return {
    name,
    get live() {
      return live;
    },
    get calls() {
      return calls;
    },
    get closed() {
      return closed;
    },
    resetCalls() {
      calls = emptyCalls();
    },
    supports,
    validate(object) {
      return validateThing(object, name, supports);
    },
    async describe(object) {
      count(calls.describe, [object.key]);
      await Promise.resolve();
      return describeThing(object);
    },
    async read(keys) {
      count(calls.read, keys);
      await settle();
      const out = new Map<ResourceKey, LiveObject>();
      for (const key of keys) {
        const object = live.get(key);
        if (object) out.set(key, object);
      }
      return out;
    },
    async apply(object: RenderedObject, context: ObjectContext): Promise<ApplyOutcome> {
      count(calls.apply, [object.key]);
      await settle();
      const failure = applyFailures.get(object.key);
      if (failure) throw failure;
      checkOwner(object.key, context.application, "apply");
      const state = describeThing(object);
      const before = live.get(object.key);
      if (before && canonicalJson(before.state) === canonicalJson(state)) return "unchanged";
      live.set(object.key, { key: object.key, state, owner: context.application });
      count(calls.write, [object.key]);
      return before ? "configured" : "created";
    },
    async delete(key, context) {
      count(calls.delete, [key]);
      await settle();
      const failure = deleteFailures.get(key);
      if (failure) throw failure;
      checkOwner(key, context.application, "delete");
      if (live.delete(key)) count(calls.write, [key]);
    },
    async health(keys) {
      await settle();
      const out = new Map<ResourceKey, Health>();
      for (const key of keys) {
        if (!live.has(key)) out.set(key, { status: "Missing", message: `${displayKey(key)} does not exist` });
        else out.set(key, healthOverrides.get(key) ?? { status: "Healthy", message: `${displayKey(key)} is applied` });
      }
      return out;
    },
    watch(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      closed = true;
      listeners.clear();
    },
    failApply(key, error) {
      applyFailures.set(key, error);
    },
    failDelete(key, error) {
      deleteFailures.set(key, error);
    },
    clearFailures(key) {
      if (key === undefined) {
        applyFailures.clear();
        deleteFailures.clear();
      } else {
        applyFailures.delete(key);
        deleteFailures.delete(key);
      }
    },
    setHealth(key, health) {
      if (health) healthOverrides.set(key, health);
      else healthOverrides.delete(key);
      const object = live.get(key);
      if (object) notify({ key, owner: object.owner, message: `health of ${displayKey(key)} changed` });
    },
    tamper(key) {
      const object = live.get(key);
      if (!object) throw new Error(`cannot tamper with ${displayKey(key)}: it is not live`);
      tampers += 1;
      const spec = isJsonObject(object.state.spec) ? object.state.spec : {};
      // A counter keeps every tamper distinct from the last one.
      live.set(key, { ...object, state: { ...object.state, spec: { ...spec, tampered: tampers } } });
      notify({ key, owner: object.owner, message: `${displayKey(key)} was changed outside ferry` });
    },
  };
}

/** The comparable state of a memory object: its spec, with keys sorted. */
function describeThing(object: RenderedObject): Comparable {
  const spec = object.manifest.spec;
  return { spec: JSON.parse(canonicalJson(spec ?? {})) as JsonValue };
}

/** Checks that the kind is supported, `spec` is an object, and `spec.invalid` is not true. */
function validateThing(
  object: RenderedObject,
  targetName: string,
  supports: (apiVersion: string, kind: string) => boolean,
): Problem[] {
  const { manifest, origin } = object;
  const problem = (message: string, field: string): Problem => ({ severity: "error", message, field, location: locate(origin, field) });
  if (!supports(manifest.apiVersion, manifest.kind)) {
    return [problem(`kind ${manifest.kind} of ${manifest.apiVersion} is not managed by target "${targetName}"`, "/kind")];
  }
  const spec = manifest.spec;
  if (!isJsonObject(spec)) {
    return [problem(spec === undefined ? "required field is missing (expected object)" : "spec must be an object", "/spec")];
  }
  if (spec.invalid === true) return [problem("spec.invalid is true: this object is marked invalid", "/spec/invalid")];
  return [];
}

type MutableCount = { total: number; readonly byKey: Map<ResourceKey, number> };
type MutableCalls = { readonly [K in keyof MemoryCalls]: MutableCount };

function emptyCalls(): MutableCalls {
  const zero = (): MutableCount => ({ total: 0, byKey: new Map() });
  return { apply: zero(), delete: zero(), read: zero(), describe: zero(), write: zero() };
}

function count(counter: MutableCount, keys: readonly ResourceKey[]): void {
  counter.total += 1;
  for (const key of keys) counter.byKey.set(key, (counter.byKey.get(key) ?? 0) + 1);
}
