import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import type { Digest, ResourceKey, Revision } from "../core/ids.js";
import { EMPTY_CHANGE_SET } from "../engine/status.js";
import { openHistory } from "./open-history.js";
import { HistoryRecorder } from "./recorder.js";
import type { HistoryStore } from "./types.js";

const revision = "1".repeat(40) as Revision;
const digest = `sha256:${"2".repeat(64)}` as Digest;
const key = "host.ferry.dev/File//web-config" as ResourceKey;

/** A store that refuses every call while `down` is set, like an unreachable server; closing it leaves the real one open. */
function flaky(store: HistoryStore): { store: HistoryStore; down: boolean; calls: number } {
  const state = { down: false, calls: 0, store: undefined as unknown as HistoryStore };
  state.store = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (property === "close") return () => Promise.resolve();
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        state.calls++;
        if (state.down) return Promise.reject(new Error("connection refused"));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return state;
}

describe("history recorder", () => {
  let dir: string;
  let store: HistoryStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "ferry-recorder-"));
    store = await openHistory(`sqlite:${join(dir, "history.db")}`);
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("writes engine events in order, with the environment and without field values", async () => {
    const recorder = new HistoryRecorder({ open: async () => store, agent: "a", environmentOf: () => "prd", log: () => undefined });
    recorder.listener({ type: "SyncStarted", application: "web", revision, trigger: "revision" });
    recorder.listener({ type: "Progress", application: "web", message: "rendering" });
    recorder.listener({
      type: "SyncFinished",
      application: "web",
      target: "host",
      revision,
      digest,
      commit: { author: "Ada", email: "ada@example.com", subject: "Bump to 1.4.2", time: "2026-11-01T10:00:00Z" },
      versions: ["1.4.2"],
      trigger: "revision",
      outcome: "Succeeded",
      reason: "Succeeded",
      message: "applied",
      changeSet: { ...EMPTY_CHANGE_SET, configured: [key] },
      durationMs: 42,
    });
    recorder.listener({
      type: "DriftDetected",
      application: "web",
      revision,
      objects: [{ key, differences: [{ path: "/content", desired: "password=hunter2", live: "password=other" }] }],
      selfHeal: true,
    });
    await recorder.flush();
    const events = (await store.events({})).items;
    assert.deepEqual(
      events.map((e) => e.type),
      ["DriftDetected", "SyncFinished", "SyncStarted"],
    );
    assert.ok(events.every((e) => e.environment === "prd"));
    assert.equal(events[1]?.author, "Ada");
    assert.deepEqual(events[1]?.versions, ["1.4.2"]);
    assert.doesNotMatch(JSON.stringify(events), /hunter2|password=other/);
    assert.deepEqual(events[0]?.details, { selfHeal: true, objects: [{ key, fields: ["/content"] }] });
    const [deployment] = (await store.deployments({ application: "web" })).items;
    assert.equal(deployment?.environment, "prd");
    await recorder.stop();
  });

  test("keeps events while the store is unreachable and writes them, in order, when it is back", async () => {
    const logs: string[] = [];
    const state = flaky(store);
    state.down = true;
    const recorder = new HistoryRecorder({ open: async () => state.store, agent: "a", environmentOf: () => undefined, flushDelayMs: 1, log: (m) => logs.push(m) });
    for (let i = 0; i < 5; i++) recorder.record({ type: "Hold", at: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(), application: `app-${i}` });
    await assert.rejects(recorder.flush(), /connection refused/);
    await assert.rejects(recorder.flush(), /connection refused/);
    assert.equal(recorder.pending, 5);
    assert.equal(logs.filter((l) => l.includes("connection refused")).length, 1, "one failure is logged once, not at every retry");
    state.down = false;
    // The recorder retries by itself, with backoff.
    for (let i = 0; i < 100 && recorder.pending > 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(recorder.pending, 0);
    assert.deepEqual(
      (await store.events({})).items.map((e) => e.application),
      ["app-4", "app-3", "app-2", "app-1", "app-0"],
    );
    assert.ok(logs.includes("history: writing again"));
    await recorder.stop();
  });

  test("saves what it could not write at stop and writes it after the next start", async () => {
    const spillFile = join(dir, "history-pending.jsonl");
    const state = flaky(store);
    state.down = true;
    const first = new HistoryRecorder({ open: async () => state.store, agent: "a", environmentOf: () => undefined, spillFile, log: () => undefined });
    first.record({ type: "Hold", at: new Date().toISOString(), application: "web" });
    first.record({ type: "Release", at: new Date().toISOString(), application: "web" });
    await first.stop();
    assert.ok(existsSync(spillFile));
    state.down = false;
    const second = new HistoryRecorder({ open: async () => state.store, agent: "a", environmentOf: () => undefined, spillFile, log: () => undefined });
    await second.start();
    assert.ok(existsSync(spillFile), "the saved events stay on disk until they are in the store");
    await second.flush();
    assert.equal(existsSync(spillFile), false);
    assert.deepEqual(
      (await store.events({})).items.map((e) => e.type),
      ["Release", "Hold"],
    );
    await second.stop();
  });

  test("an event is durable when record resolves: in the store, or synced to the spill file while the store is away", async () => {
    const spillFile = join(dir, "history-pending.jsonl");
    const state = flaky(store);
    const first = new HistoryRecorder({ open: async () => state.store, agent: "a", environmentOf: () => undefined, spillFile, log: () => undefined });
    await first.record({ type: "Hold", at: new Date().toISOString(), application: "stored" });
    assert.equal((await store.events({})).items.length, 1, "in the store when record resolves, without a flush");
    state.down = true;
    await first.record({ type: "Hold", at: new Date().toISOString(), application: "spilled" });
    assert.ok(existsSync(spillFile), "in the spill file while the store is away");
    // The agent dies here: no stop. The next one writes what the file holds.
    state.down = false;
    const second = new HistoryRecorder({ open: async () => state.store, agent: "a", environmentOf: () => undefined, spillFile, log: () => undefined });
    await second.start();
    await second.flush();
    assert.deepEqual(
      (await store.events({})).items.map((e) => e.application).sort(),
      ["spilled", "stored"],
    );
    assert.equal(existsSync(spillFile), false);
    await second.stop();
    await first.stop();
  });

  test("prunes events older than the retention", async () => {
    const now = new Date("2026-11-10T00:00:00Z");
    await store.append([{ type: "Hold", at: "2026-11-01T00:00:00Z", application: "old" }], "a");
    const recorder = new HistoryRecorder({ open: async () => store, agent: "a", environmentOf: () => undefined, retentionMs: 86_400_000, now: () => now, log: () => undefined });
    recorder.record({ type: "Hold", at: now.toISOString(), application: "new" });
    await recorder.flush();
    assert.deepEqual(
      (await store.events({})).items.map((e) => e.application),
      ["new"],
    );
    await recorder.stop();
  });
});
