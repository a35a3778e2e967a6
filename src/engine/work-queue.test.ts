import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WorkQueue } from "./work-queue.js";

describe("WorkQueue", () => {
  it("runs one key at a time, runs a key added while running once more, and deduplicates waiting keys", async () => {
    const runs: string[] = [];
    let active = 0;
    let maxActivePerKey = 0;
    let release: (() => void) | undefined;
    const queue = new WorkQueue<string>(async (key, reasons) => {
      active++;
      maxActivePerKey = Math.max(maxActivePerKey, active);
      runs.push(`${key}:${reasons.join("+")}`);
      if (runs.length === 1) await new Promise<void>((r) => (release = r));
      active--;
    }, 4);
    queue.add("a", "first");
    await new Promise((r) => setImmediate(r));
    queue.add("a", "second");
    queue.add("a", "third");
    release?.();
    await queue.whenIdle();
    assert.deepEqual(runs, ["a:first", "a:second+third"]);
    assert.equal(maxActivePerKey, 1);
  });

  it("runs different keys in parallel up to the concurrency", async () => {
    let active = 0;
    let peak = 0;
    const queue = new WorkQueue<string>(async () => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 20));
      active--;
    }, 2);
    for (const key of ["a", "b", "c", "d"]) queue.add(key, "x");
    await queue.whenIdle();
    assert.equal(peak, 2);
  });

  it("delayed adds keep the earliest due time and carry every reason", async () => {
    const runs: string[][] = [];
    const queue = new WorkQueue<string>(async (_key, reasons) => {
      runs.push([...reasons]);
    });
    queue.addAfter("a", "late", 10_000);
    queue.addAfter("a", "soon", 10);
    const deadline = Date.now() + 5000;
    while (runs.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(runs, [["late", "soon"]]);
    queue.stop();
  });

  it("serves every delayed key with one timer, in order of due time", async () => {
    const runs: string[] = [];
    const queue = new WorkQueue<string>(async (key) => {
      runs.push(key);
    }, 1);
    const original = globalThis.setTimeout;
    let timers = 0;
    globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
      timers++;
      return original(...args);
    }) as typeof setTimeout;
    try {
      for (let i = 0; i < 1000; i++) queue.addAfter(`k${i}`, "interval", 3_600_000 + i);
    } finally {
      globalThis.setTimeout = original;
    }
    assert.equal(timers, 1, "1,000 delayed keys are served by one timer");
    assert.equal(queue.delayedCount, 1000);
    queue.addAfter("c", "x", 30);
    queue.addAfter("a", "x", 10);
    queue.addAfter("b", "x", 20);
    const deadline = Date.now() + 5000;
    while (runs.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(runs, ["a", "b", "c"]);
    assert.equal(queue.delayedCount, 1000);
    queue.stop();
    assert.equal(queue.delayedCount, 0);
  });

  it("a failing handler does not stop the queue", async () => {
    const seen: string[] = [];
    const original = console.error;
    console.error = () => {};
    try {
      const queue = new WorkQueue<string>(async (key) => {
        seen.push(key);
        if (key === "bad") throw new Error("boom");
      });
      queue.add("bad", "x");
      queue.add("good", "x");
      await queue.whenIdle();
    } finally {
      console.error = original;
    }
    assert.deepEqual(seen.sort(), ["bad", "good"]);
  });

  it("a group whose work hangs holds only its own workers: another group's keys still run", async () => {
    const hung: (() => void)[] = [];
    const done: string[] = [];
    const queue = new WorkQueue<string>(
      async (key) => {
        if (key.startsWith("dark/")) await new Promise<void>((r) => hung.push(r));
        done.push(key);
      },
      2,
      (key) => key.split("/")[0] ?? "",
    );
    for (const key of ["dark/a", "dark/b", "dark/c", "dark/d", "lit/a", "lit/b", "lit/c"]) queue.add(key, "x");
    while (done.length < 3) await new Promise((r) => setImmediate(r));
    assert.deepEqual(done, ["lit/a", "lit/b", "lit/c"], "the healthy group ran while every dark worker hung");
    assert.equal(hung.length, 2, "the dark group never had more than its two workers");
    while (hung.length > 0) {
      hung.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    await queue.whenIdle();
    assert.equal(done.length, 7);
  });
});
