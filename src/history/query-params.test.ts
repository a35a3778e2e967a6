import assert from "node:assert/strict";
import { test } from "node:test";
import { deploymentQueryOf, historyQueryOf, parseTime } from "./query-params.js";

const now = new Date("2026-11-23T12:00:00.000Z");

test("reads times as dates, date-times, now and durations ago", () => {
  assert.equal(parseTime("2026-11-17T14:00:00Z", now).toISOString(), "2026-11-17T14:00:00.000Z");
  assert.equal(parseTime("2026-11-17", now).toISOString(), "2026-11-17T00:00:00.000Z");
  assert.equal(parseTime("now", now), now);
  assert.equal(parseTime("36h", now).toISOString(), "2026-11-22T00:00:00.000Z");
  assert.equal(parseTime("7d", now).toISOString(), "2026-11-16T12:00:00.000Z");
  assert.throws(() => parseTime("last tuesday", now, "at"), /at: cannot read "last tuesday" as a time/);
  assert.throws(() => parseTime("2026-13-45", now), /cannot read/);
});

test("turns parameters into queries and names the one that is wrong", () => {
  assert.deepEqual(historyQueryOf({ application: "web", type: "SyncFinished, Rollback", outcome: "Failed", since: "1h", limit: "20" }, now), {
    application: "web",
    outcome: "Failed",
    types: ["SyncFinished", "Rollback"],
    since: new Date("2026-11-23T11:00:00.000Z"),
    limit: 20,
  });
  assert.deepEqual(deploymentQueryOf({ version: "1.4.2", at: "2026-11-20" }, now), { version: "1.4.2", at: new Date("2026-11-20T00:00:00.000Z") });
  assert.throws(() => historyQueryOf({ type: "Synced" }, now), /type: unknown event type "Synced"; known: SyncStarted/);
  assert.throws(() => historyQueryOf({ outcome: "ok" }, now), /outcome: must be Succeeded or Failed/);
  assert.throws(() => historyQueryOf({ limit: "0" }, now), /limit: expected a positive whole number/);
  assert.throws(() => historyQueryOf({ revision: "main" }, now), /revision: expected hex digits/);
});
