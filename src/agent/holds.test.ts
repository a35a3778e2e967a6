import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { openHistory } from "../history/open-history.js";
import { holdStatuses } from "./holds.js";

test("a hold as status shows it: why, since when, who rolled back, and how to lift it", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "ferry-holds-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const store = await openHistory(`sqlite:${join(dir, "history.db")}`);
  t.after(() => store.close());
  const at = "2026-11-23T12:00:00.000Z";
  const [id] = await store.append([{ type: "Rollback", at, application: "web-prd", author: "Ada Operator", outcome: "Succeeded", message: "rolled back" }], "agent");
  await store.hold({ application: "web-prd", reason: "rolled back to 1.0.0: slow", since: at, ...(id !== undefined ? { eventId: id } : {}) });
  const { holds, statuses } = await holdStatuses(store);
  assert.equal(holds.length, 1);
  assert.deepEqual(statuses.get("web-prd"), { reason: "rolled back to 1.0.0: slow", since: at, by: "Ada Operator", release: "ferry release web-prd" });
  // Known already: who is not asked again.
  const known = new Map([["web-prd", { reason: "rolled back to 1.0.0: slow", since: at, by: "someone known", release: "ferry release web-prd" }]]);
  assert.equal((await holdStatuses(store, known)).statuses.get("web-prd")?.by, "someone known");
});
