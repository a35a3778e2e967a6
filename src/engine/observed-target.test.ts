import assert from "node:assert/strict";
import { test } from "node:test";
import { createMemoryTarget } from "../targets/memory/memory-target.js";
import { makeObject } from "../../test/support/target-testing.js";
import type { TargetCall } from "./observed-target.js";
import { observeTargetCalls } from "./observed-target.js";

const thing = makeObject({ apiVersion: "test.ferry.dev/v1", kind: "Thing", metadata: { name: "one" }, spec: { size: 1 } });
const context = { application: "app", artifactDirectory: "/nowhere" };

test("every call that reaches the target is reported with its verb and outcome; the rest passes through", async () => {
  const memory = createMemoryTarget({ name: "lab" });
  const calls: TargetCall[] = [];
  const target = observeTargetCalls(memory, (c) => calls.push(c));
  assert.equal(target.name, "lab");
  assert.equal(target.supports("test.ferry.dev/v1", "Thing"), true);
  assert.equal(await target.apply(thing, context), "created");
  await target.read([thing.key]);
  await target.health([thing.key]);
  memory.failDelete(thing.key, new Error("refused"));
  await assert.rejects(target.delete(thing.key, { application: "app" }), /refused/);
  assert.deepEqual(
    calls.map((c) => `${c.target} ${c.verb} ${c.outcome}`),
    ["lab apply ok", "lab read ok", "lab health ok", "lab delete error"],
  );
  assert.ok(calls.every((c) => c.durationMs >= 0));
  assert.equal(memory.calls.apply.total, 1, "the target itself was called once");
});

test("an observer that throws does not break the call", async () => {
  const target = observeTargetCalls(createMemoryTarget(), () => {
    throw new Error("observer broke");
  });
  assert.equal(await target.apply(thing, context), "created");
});
