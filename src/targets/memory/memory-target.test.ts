import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import { transient } from "../../core/errors.js";
import type { Manifest } from "../../core/objects.js";
import type { LiveChange } from "../target.js";
import { makeObject } from "../../../test/support/target-testing.js";
import { createMemoryTarget, THING } from "./memory-target.js";

const context = { application: "shop", artifactDirectory: "/unused" };
const thing = (name: string, spec: Manifest["spec"] = { replicas: 1 }) => makeObject({ ...THING, metadata: { name }, spec });

describe("memory target", () => {
  it("counts calls in all and per key, and writes only when something changed", async () => {
    const target = createMemoryTarget();
    const a = thing("a");
    const b = thing("b");
    await target.apply(a, context);
    await target.apply(a, context);
    await target.apply(b, context);
    await target.read([a.key, b.key]);
    await target.describe(a, context);
    assert.equal(target.calls.apply.total, 3);
    assert.deepStrictEqual(target.calls.apply.byKey, new Map([[a.key, 2], [b.key, 1]]));
    assert.deepStrictEqual(target.calls.write.byKey, new Map([[a.key, 1], [b.key, 1]]));
    assert.equal(target.calls.read.total, 1);
    assert.deepStrictEqual(target.calls.read.byKey, new Map([[a.key, 1], [b.key, 1]]));
    assert.equal(target.calls.describe.total, 1);

    target.resetCalls();
    await target.apply(a, context);
    assert.equal(target.calls.apply.total, 1);
    assert.equal(target.calls.write.total, 0);
    await target.delete(a.key, context);
    await target.delete(a.key, context);
    assert.equal(target.calls.delete.total, 2);
    assert.equal(target.calls.write.total, 1);
  });

  it("compares specs canonically, whatever the key order", async () => {
    const target = createMemoryTarget();
    await target.apply(thing("a", { x: 1, y: { p: true, q: null } }), context);
    assert.equal(await target.apply(thing("a", { y: { q: null, p: true }, x: 1 }), context), "unchanged");
    assert.deepStrictEqual(target.live.get(thing("a").key)?.state, { spec: { x: 1, y: { p: true, q: null } } });
  });

  it("throws the given errors until they are cleared", async () => {
    const target = createMemoryTarget();
    const a = thing("a");
    const busy = transient("TargetBusy", "target is busy");
    target.failApply(a.key, busy);
    await assert.rejects(target.apply(a, context), (error) => error === busy);
    await assert.rejects(target.apply(a, context), (error) => error === busy);
    assert.equal(target.live.has(a.key), false);
    target.clearFailures(a.key);
    assert.equal(await target.apply(a, context), "created");

    target.failDelete(a.key, busy);
    await assert.rejects(target.delete(a.key, context), (error) => error === busy);
    assert.equal(target.live.has(a.key), true);
    target.clearFailures();
    await target.delete(a.key, context);
    assert.equal(target.live.has(a.key), false);
  });

  it("reports the health it is told while the object is live, and tells watchers", async () => {
    const target = createMemoryTarget();
    const a = thing("a");
    const changes: LiveChange[] = [];
    target.watch((change) => changes.push(change));
    target.setHealth(a.key, { status: "Degraded", message: "crash loop" });
    assert.equal((await target.health([a.key])).get(a.key)?.status, "Missing");
    await target.apply(a, context);
    assert.deepStrictEqual((await target.health([a.key])).get(a.key), { status: "Degraded", message: "crash loop" });
    target.setHealth(a.key, undefined);
    assert.equal((await target.health([a.key])).get(a.key)?.status, "Healthy");
    assert.deepStrictEqual(
      changes.map((c) => [c.key, c.owner]),
      [[a.key, "shop"]],
    );
  });

  it("tampers with a distinct change every time and refuses to tamper with an absent object", async () => {
    const target = createMemoryTarget();
    const a = thing("a");
    await target.apply(a, context);
    target.tamper(a.key);
    const first = target.live.get(a.key)?.state;
    target.tamper(a.key);
    assert.notDeepStrictEqual(target.live.get(a.key)?.state, first);
    assert.equal(await target.apply(a, context), "configured");
    assert.throws(() => target.tamper(thing("absent").key), /absent: it is not live/);
  });

  it("refuses to apply or delete an object another application owns", async () => {
    const target = createMemoryTarget();
    const a = thing("a");
    await target.apply(a, context);
    const other = { application: "billing", artifactDirectory: "/unused" };
    await assert.rejects(target.apply(thing("a", { replicas: 2 }), other), /belongs to application "shop", not "billing"/);
    await assert.rejects(target.delete(a.key, other), (error: unknown) => (error as { disposition?: string }).disposition === "stalled");
    assert.equal(target.live.get(a.key)?.owner, "shop");
  });

  it("supports extra kinds and stops telling watchers once closed", async () => {
    const target = createMemoryTarget({ kinds: [{ apiVersion: "test.ferry.dev/v1", kind: "Gadget" }] });
    assert.equal(target.supports("test.ferry.dev/v1", "Gadget"), true);
    assert.equal(target.supports("test.ferry.dev/v1", "Widget"), false);
    const a = thing("a");
    await target.apply(a, context);
    let told = 0;
    target.watch(() => (told += 1));
    await target.close();
    target.tamper(a.key);
    assert.equal(told, 0);
    assert.equal(target.closed, true);
  });

  it("answers only after the configured delay", async () => {
    const target = createMemoryTarget({ delayMs: 50 });
    const start = performance.now();
    await target.read([]);
    // Timers may fire a millisecond early; a lower bound cannot flake on a slow machine.
    assert.ok(performance.now() - start >= 45, "read() answered before its delay");
  });
});

describe("memory target validation", () => {
  const target = createMemoryTarget({ name: "fake" });
  const withSpecLine = (manifest: Manifest) => {
    const object = makeObject(manifest, "apps/shop.yaml");
    return { ...object, origin: { ...object.origin, positions: { "/spec": { line: 7, column: 3 } } } };
  };

  it("accepts a thing whose spec is an object", () => {
    assert.deepStrictEqual(target.validate(thing("a")), []);
  });

  it("names the line of a spec that is not an object", () => {
    assert.deepStrictEqual(target.validate(withSpecLine({ ...THING, metadata: { name: "a" }, spec: "big" })), [
      { severity: "error", message: "spec must be an object", field: "/spec", location: { file: "apps/shop.yaml", line: 7, column: 3 } },
    ]);
    const [missing] = target.validate(makeObject({ ...THING, metadata: { name: "a" } }));
    assert.equal(missing?.field, "/spec");
    assert.match(missing?.message ?? "", /required field is missing/);
  });

  it("rejects spec.invalid: true at the line of its spec", () => {
    const problems = target.validate(withSpecLine({ ...THING, metadata: { name: "a" }, spec: { invalid: true } }));
    assert.equal(problems.length, 1);
    assert.equal(problems[0]?.field, "/spec/invalid");
    assert.deepStrictEqual(problems[0]?.location, { file: "apps/shop.yaml", line: 7, column: 3 });
    assert.deepStrictEqual(target.validate(thing("a", { invalid: false })), []);
  });

  it("rejects kinds it does not manage", () => {
    const [problem] = target.validate(makeObject({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" }, spec: {} }));
    assert.equal(problem?.field, "/kind");
    assert.match(problem?.message ?? "", /not managed by target "fake"/);
  });
});
