import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ResourceKey } from "../core/ids.js";
import { makeObject } from "../../test/support/target-testing.js";
import type { LiveObject } from "../targets/target.js";
import { compareValues, diffObjects } from "./diff-objects.js";
import { formatDiffs, toDiffView } from "./format-diff.js";

const thing = (name: string, spec: Record<string, string>) => makeObject({ apiVersion: "test.ferry.dev/v1", kind: "Thing", metadata: { name }, spec });

describe("diffObjects", () => {
  it("pairs desired with live: missing, changed, same and orphan, sorted by key", () => {
    const a = thing("a", { v: "1" });
    const b = thing("b", { v: "2" });
    const c = thing("c", { v: "3" });
    const live = new Map<ResourceKey, LiveObject>([
      [b.key, { key: b.key, state: { spec: { v: "old" } } }],
      [c.key, { key: c.key, state: { spec: { v: "3" } } }],
      ["test.ferry.dev/Thing//z" as ResourceKey, { key: "test.ferry.dev/Thing//z" as ResourceKey, state: {} }],
    ]);
    const diffs = diffObjects(
      [c, a, b].map((o) => ({ object: o, state: { spec: o.manifest.spec ?? {} } })),
      live,
      ["test.ferry.dev/Thing//z" as ResourceKey, "test.ferry.dev/Thing//gone" as ResourceKey, a.key],
    );
    assert.deepEqual(
      diffs.map((d) => [d.key.split("/").pop(), d.type]),
      [["a", "missing"], ["b", "changed"], ["c", "same"], ["gone", "orphan"], ["z", "orphan"]],
    );
    const changed = diffs[1];
    assert.equal(changed?.type, "changed");
    if (changed?.type === "changed") assert.deepEqual(changed.differences, [{ path: "/spec/v", desired: "2", live: "old" }]);
  });

  it("reads people's diff: + created, ~ changed with field, - pruned", () => {
    const b = thing("b", { v: "2" });
    const diffs = diffObjects([{ object: b, state: { spec: { v: "2" } } }], new Map([[b.key, { key: b.key, state: { spec: { v: "1" } } }]]), []);
    assert.equal(formatDiffs(diffs.map(toDiffView)), '~ Thing/b\n    spec.v: "1" -> "2"');
  });
});

describe("compareValues", () => {
  it("ignores key order, reports added and removed fields, compares arrays whole", () => {
    assert.deepEqual(compareValues({ a: 1, b: { c: 2 } }, { b: { c: 2 }, a: 1 }), []);
    assert.deepEqual(compareValues({ a: 1 }, { a: 1, extra: true }), [{ path: "/extra", live: true }]);
    assert.deepEqual(compareValues({ list: [1, 2] }, { list: [2, 1] }), [{ path: "/list", desired: [1, 2], live: [2, 1] }]);
    assert.deepEqual(compareValues({ "a/b": 1 }, { "a/b": 2 }), [{ path: "/a~1b", desired: 1, live: 2 }]);
  });
});
