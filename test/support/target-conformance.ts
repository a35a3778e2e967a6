import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ResourceKey } from "../../src/core/ids.js";
import type { RenderedObject } from "../../src/core/objects.js";
import type { LiveChange, ObjectContext, Target } from "../../src/targets/target.js";

/** What one target implementation gives the conformance suite. */
export interface ConformanceHarness {
  readonly target: Target;
  /** Context for apply/describe (application name, artifact directory with any files samples refer to). */
  readonly context: ObjectContext;
  /** A valid object of a kind this target supports, named `name`; different `variant` numbers give different specs. */
  sample(name: string, variant: number): RenderedObject;
  /** Changes the live object behind the target's back (drift): edits a file, kills a process, changes a field. */
  tamper(key: ResourceKey): Promise<void>;
  /** Removes everything the harness created, including anything the target left running, and closes the target. */
  cleanup(): Promise<void>;
}

/** Options of the conformance suite. */
export interface ConformanceOptions {
  /** How long to poll for eventual conditions (health, drift, watch events). Default 10 s. */
  readonly timeoutMs?: number;
}

/**
 * Declares the behaviours every target must have, one test each, against a
 * fresh harness per test. Uses only the Target interface, so it runs unchanged
 * against host, kubernetes and the in-memory fake.
 */
export function targetConformance(name: string, makeHarness: () => Promise<ConformanceHarness>, options: ConformanceOptions = {}): void {
  const timeoutMs = options.timeoutMs ?? 10_000;
  // A hung target must fail its own test rather than the whole run.
  const test = (title: string, body: (h: ConformanceHarness) => Promise<void>): void => {
    it(title, { timeout: timeoutMs * 3 }, () => withHarness(makeHarness, body));
  };

  describe(`target conformance: ${name}`, () => {
    test("supports the sample's kind and not an unknown one", async (h) => {
      const { target } = h;
      const { apiVersion, kind } = h.sample("alpha", 0).manifest;
      assert.equal(target.supports(apiVersion, kind), true);
      assert.equal(target.supports("unknown.ferry.dev/v1", "NoSuchKind"), false);
    });

    test("validates a sample without problems", async (h) => {
      const { target } = h;
      assert.deepStrictEqual(target.validate(h.sample("alpha", 0)), []);
      assert.deepStrictEqual(target.validate(h.sample("alpha", 1)), []);
    });

    test("creates a new object that reads back as described and owned", async (h) => {
      const { target, context } = h;
      const object = h.sample("alpha", 0);
      assert.equal(await target.apply(object, context), "created");
      const live = (await target.read([object.key])).get(object.key);
      assert.ok(live, `read() does not return ${object.key} after it was created`);
      assert.equal(live.key, object.key);
      assert.deepStrictEqual(live.state, await target.describe(object, context));
      assert.equal(live.owner, context.application);
    });

    test("applying the same object again changes nothing", async (h) => {
      const { target, context } = h;
      const object = h.sample("alpha", 0);
      await target.apply(object, context);
      const before = (await target.read([object.key])).get(object.key);
      assert.ok(before, `read() does not return ${object.key} after it was applied`);
      assert.equal(await target.apply(object, context), "unchanged");
      const after = (await target.read([object.key])).get(object.key);
      assert.deepStrictEqual(after?.state, before.state);
      assert.deepStrictEqual(after?.state, await target.describe(object, context));
    });

    test("applying another variant configures the object", async (h) => {
      const { target, context } = h;
      const first = h.sample("alpha", 0);
      const second = h.sample("alpha", 1);
      const desired = await target.describe(second, context);
      assert.notDeepStrictEqual(desired, await target.describe(first, context), "the harness's variants must differ");
      await target.apply(first, context);
      assert.equal(await target.apply(second, context), "configured");
      const live = (await target.read([second.key])).get(second.key);
      assert.deepStrictEqual(live?.state, desired);
    });

    test("reads several objects in one call and leaves out absent ones", async (h) => {
      const { target, context } = h;
      const alpha = h.sample("alpha", 0);
      const beta = h.sample("beta", 1);
      const absent = h.sample("absent", 0).key;
      await target.apply(alpha, context);
      await target.apply(beta, context);
      const live = await target.read([alpha.key, absent, beta.key]);
      assert.deepStrictEqual([...live.keys()].sort(), [alpha.key, beta.key].sort());
      assert.deepStrictEqual(live.get(alpha.key)?.state, await target.describe(alpha, context));
      assert.deepStrictEqual(live.get(beta.key)?.state, await target.describe(beta, context));
    });

    test("deletes an object, and deleting it again succeeds", async (h) => {
      const { target, context } = h;
      const object = h.sample("alpha", 0);
      await target.apply(object, context);
      await target.delete(object.key, context);
      assert.equal((await target.read([object.key])).has(object.key), false);
      await target.delete(object.key, context);
      assert.equal((await target.read([object.key])).has(object.key), false);
    });

    test("reports applied objects Healthy and unknown ones Missing", async (h) => {
      const { target, context } = h;
      const object = h.sample("alpha", 0);
      const absent = h.sample("absent", 0).key;
      await target.apply(object, context);
      await eventually(timeoutMs, async () => {
        assert.equal((await target.health([object.key])).get(object.key)?.status, "Healthy");
      });
      assert.equal((await target.health([absent])).get(absent)?.status, "Missing");
    });

    test("notices drift, tells watchers, and corrects it on the next apply", async (h) => {
      const { target, context } = h;
      const object = h.sample("alpha", 0);
      const desired = await target.describe(object, context);
      await target.apply(object, context);
      const changes: LiveChange[] = [];
      const unsubscribe = target.watch((change) => changes.push(change));
      try {
        await h.tamper(object.key);
        await eventually(timeoutMs, async () => {
          const live = (await target.read([object.key])).get(object.key);
          assert.notDeepStrictEqual(live?.state, desired, "the live state still matches after tampering");
        });
        await eventually(timeoutMs, async () => {
          assert.ok(
            changes.some((c) => c.key === object.key),
            `no watch event for ${object.key}; got ${JSON.stringify(changes.map((c) => c.key))}`,
          );
        });
      } finally {
        unsubscribe();
      }
      assert.notEqual(await target.apply(object, context), "unchanged");
      const live = (await target.read([object.key])).get(object.key);
      assert.deepStrictEqual(live?.state, desired);
    });
  });
}

async function withHarness(makeHarness: () => Promise<ConformanceHarness>, body: (h: ConformanceHarness) => Promise<void>): Promise<void> {
  const harness = await makeHarness();
  try {
    await body(harness);
  } catch (error) {
    // Report the behaviour that failed first; a cleanup failure on top of it rides along.
    await harness.cleanup().catch((cleanupError: unknown) => {
      throw new AggregateError([error, cleanupError], "test failed, and so did cleanup", { cause: error });
    });
    throw error;
  }
  await harness.cleanup();
}

/** Runs `check` until it stops throwing; after the deadline the last failure is the test's. */
async function eventually(timeoutMs: number, check: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() >= deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
