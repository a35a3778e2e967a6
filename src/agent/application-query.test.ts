import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { HealthStatus } from "../core/health.js";
import type { Revision } from "../core/ids.js";
import type { ApplicationStatus } from "../engine/status.js";
import { initialStatus } from "../engine/status.js";
import { applicationQueryOf, InvalidApplicationQuery, queryApplications } from "./application-query.js";

const HEALTHS: HealthStatus[] = ["Healthy", "Progressing", "Degraded"];

/** `count` synthetic statuses: app-00000 ... in shuffled order, a third of them out of sync. */
function statuses(count: number): ApplicationStatus[] {
  const list: ApplicationStatus[] = [];
  for (let i = 0; i < count; i++) {
    const base = initialStatus(`app-${String(i).padStart(5, "0")}`, "host");
    list.push({
      ...base,
      health: { status: HEALTHS[i % 3] ?? "Unknown", message: "" },
      sync: { status: i % 3 === 2 ? "OutOfSync" : "Synced", revision: `${String(i).padStart(8, "0")}${"a".repeat(32)}` as Revision },
    });
  }
  // Deterministic shuffle: the query must sort, whatever order the engine keeps.
  return list.map((s, i) => ({ s, k: (i * 7919) % count })).sort((a, b) => a.k - b.k).map((x) => x.s);
}

const environmentOf = (name: string): string => (Number(name.slice(4)) % 2 === 0 ? "prd" : "dev");

describe("queryApplications", () => {
  const all = statuses(5000);

  it("returns every application sorted by name when no page is asked for (the CLI's call)", () => {
    const page = queryApplications(all, environmentOf, {});
    assert.equal(page.items.length, 5000);
    assert.equal(page.total, 5000);
    assert.equal(page.continue, undefined);
    assert.equal(page.items[0]?.name, "app-00000");
    assert.equal(page.items[0]?.environment, "prd");
    assert.equal(page.items[4999]?.name, "app-04999");
  });

  it("pages through 5,000 applications with the cursor, each exactly once", () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = queryApplications(all, environmentOf, { limit: 100, ...(cursor ? { continue: cursor } : {}) });
      assert.equal(page.total, 5000);
      seen.push(...page.items.map((s) => s.name));
      cursor = page.continue;
      pages++;
    } while (cursor);
    assert.equal(pages, 50);
    assert.equal(new Set(seen).size, 5000);
    assert.deepEqual(seen, [...seen].sort());
  });

  it("keeps its place when applications appear or leave between pages", () => {
    const first = queryApplications(all, environmentOf, { limit: 10 });
    assert.equal(first.continue, "app-00009");
    const changed = all.filter((s) => s.name !== "app-00010").concat(initialStatus("app-00009a", "host"));
    const second = queryApplications(changed, environmentOf, { limit: 3, continue: first.continue ?? "" });
    assert.deepEqual(second.items.map((s) => s.name), ["app-00009a", "app-00011", "app-00012"]);
  });

  it("filters by health, sync status, environment and search, and counts the matches", () => {
    const degraded = queryApplications(all, environmentOf, { health: "Degraded", limit: 5 });
    assert.equal(degraded.total, 1666);
    assert.ok(degraded.items.every((s) => s.health.status === "Degraded"));
    const outOfSyncPrd = queryApplications(all, environmentOf, { sync: "OutOfSync", environment: "prd" });
    assert.ok(outOfSyncPrd.items.every((s) => s.sync.status === "OutOfSync" && s.environment === "prd"));
    assert.equal(outOfSyncPrd.total, 833);
    assert.deepEqual(queryApplications(all, environmentOf, { search: "APP-0421" }).items.map((s) => s.name).slice(0, 2), ["app-04210", "app-04211"]);
    assert.equal(queryApplications(all, environmentOf, { search: "app-04210" }).total, 1);
    // A revision prefix finds the application that runs it.
    assert.deepEqual(queryApplications(all, environmentOf, { search: "00000042aaa" }).items.map((s) => s.name), ["app-00042"]);
    assert.equal(queryApplications(all, environmentOf, { search: "nothing-like-it" }).total, 0);
  });

  it("stays fast: a filtered page of 5,000 applications in a few milliseconds", () => {
    const started = performance.now();
    for (let i = 0; i < 20; i++) queryApplications(all, environmentOf, { search: "app-04", health: "Healthy", limit: 100 });
    const each = (performance.now() - started) / 20;
    assert.ok(each < 50, `one query took ${each.toFixed(1)} ms`);
  });
});

describe("applicationQueryOf", () => {
  it("reads the URL parameters and caps the page size", () => {
    assert.deepEqual(applicationQueryOf(new URLSearchParams("search=%20web%20&health=Healthy&sync=OutOfSync&limit=5000&continue=b")), {
      search: "web",
      health: "Healthy",
      sync: "OutOfSync",
      limit: 1000,
      continue: "b",
    });
    assert.deepEqual(applicationQueryOf(new URLSearchParams("search=&health=")), {});
  });

  it("refuses values that cannot match, naming the parameter", () => {
    assert.throws(() => applicationQueryOf(new URLSearchParams("health=Fine")), (e: unknown) => e instanceof InvalidApplicationQuery && /health: expected one of Healthy/.test(e.message));
    assert.throws(() => applicationQueryOf(new URLSearchParams("sync=Done")), /sync: expected one of Synced, OutOfSync, Unknown/);
    assert.throws(() => applicationQueryOf(new URLSearchParams("limit=-1")), /limit: expected a positive whole number/);
  });
});
