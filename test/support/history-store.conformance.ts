import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { HistoryEventInput, HistoryStore } from "../../src/history/types.js";

/** Opens a fresh, empty store; `reopen` opens the same data again (when the store can). */
export interface StoreFactory {
  open(): Promise<{ store: HistoryStore; reopen?: () => Promise<HistoryStore>; cleanup: () => Promise<void> }>;
}

const T0 = Date.parse("2026-11-01T10:00:00.000Z");
const at = (minutes: number): string => new Date(T0 + minutes * 60_000).toISOString();
const rev = (n: number): string => `${n.toString(16)}f`.padEnd(40, "0");
const digest = (n: number): string => `sha256:${n.toString(16).padStart(64, "0")}`;

/** A SyncFinished that changed the target. */
function synced(minutes: number, application: string, n: number, versions: string[], extra: Partial<HistoryEventInput> = {}): HistoryEventInput {
  return {
    type: "SyncFinished",
    at: at(minutes),
    application,
    target: "host",
    revision: rev(n),
    digest: digest(n),
    versions,
    outcome: "Succeeded",
    reason: "Succeeded",
    trigger: "revision",
    author: "Ada",
    subject: `release ${versions.join(",")}`,
    durationMs: 120,
    changed: true,
    details: { changeSet: { created: 0, configured: 1, deleted: 0, unchanged: 2, failed: 0 } },
    ...extra,
  };
}

/**
 * The behaviour every history store owes, run against each implementation
 * (SQLite, PostgreSQL): the same inputs give the same answers.
 */
export function describeHistoryStore(name: string, factory: StoreFactory | { skip: string }): void {
  describe(`history store: ${name}`, () => {
    if ("skip" in factory) {
      test("runs against a real server", (t) => t.skip(factory.skip));
      return;
    }
    const withStore = (work: (store: HistoryStore, reopen?: () => Promise<HistoryStore>) => Promise<void>) => async (): Promise<void> => {
      const { store, reopen, cleanup } = await factory.open();
      try {
        await work(store, reopen);
      } finally {
        await store.close().catch(() => undefined);
        await cleanup();
      }
    };

    test(
      "lists events newest first, page by page, without gaps or repeats",
      withStore(async (store) => {
        const ids = await store.append(
          Array.from({ length: 23 }, (_, i) => synced(i, "web", i + 1, [`1.0.${i}`])),
          "agent-a",
        );
        assert.equal(ids.length, 23);
        const seen: number[] = [];
        let before: number | undefined;
        for (let pages = 0; pages < 10; pages++) {
          const page = await store.events({ limit: 10, ...(before !== undefined ? { before } : {}) });
          seen.push(...page.items.map((e) => e.id));
          if (page.next === undefined) break;
          before = page.next;
        }
        assert.deepEqual(seen, [...ids].reverse());
        const [newest] = (await store.events({ limit: 1 })).items;
        assert.equal(newest?.subject, "release 1.0.22");
        assert.equal(newest?.agent, "agent-a");
        assert.deepEqual(newest?.versions, ["1.0.22"]);
        assert.equal(newest?.at, at(22));
        assert.deepEqual(newest?.details, { changeSet: { created: 0, configured: 1, deleted: 0, unchanged: 2, failed: 0 } });
      }),
    );

    test(
      "a large batch keeps its order: ids, versions and deployments as if appended one by one",
      withStore(async (store) => {
        // 278 = 250 + 25 + 3: every size of statement the store cuts a batch into.
        const events = Array.from({ length: 278 }, (_, i) =>
          synced(i, `app-${i % 7}`, i + 1, i % 3 === 0 ? [`${i}.0.0`, `${i}.0.0-extra`] : [`${i}.0.0`], { message: `event ${i}` }),
        );
        const ids = await store.append(events, "a");
        assert.equal(ids.length, 278);
        assert.ok(ids.every((id, i) => i === 0 || id > (ids[i - 1] ?? 0)), "ids rise in the order of the batch");
        for (const i of [0, 1, 249, 250, 274, 275, 277]) {
          const stored = await store.event(ids[i] ?? 0);
          assert.equal(stored?.message, `event ${i}`, `event ${i} has its own id`);
          assert.equal(stored?.application, `app-${i % 7}`);
        }
        assert.deepEqual((await store.events({ version: "276.0.0-extra" })).items.map((e) => e.id), [ids[276]]);
        assert.deepEqual((await store.events({ version: "275.0.0" })).items.map((e) => e.id), [ids[275]]);
        const running = (await store.deployments({ application: "app-3", at: new Date(at(999)) })).items;
        assert.deepEqual(running.map((d) => [d.versions.join(","), d.eventId]), [["276.0.0,276.0.0-extra", ids[276]]]);
        assert.equal((await store.deployments({ application: "app-3" })).items.length, 40, "one deployment per changed sync of app-3");
      }),
    );

    test(
      "filters by application, environment, version, outcome, type, revision and time",
      withStore(async (store) => {
        await store.append(
          [
            synced(1, "web", 1, ["1.0.0"], { environment: "dev" }),
            synced(2, "web", 2, ["1.0.0"], { environment: "prd" }),
            synced(3, "api", 3, ["2.0.0"], { environment: "dev", outcome: "Failed", reason: "HealthCheckFailed" }),
            { type: "DriftDetected", at: at(4), application: "web", environment: "prd", revision: rev(2), details: { objects: [{ key: "k", fields: ["/spec/content"] }] } },
            synced(5, "web", 5, ["1.1.0"], { environment: "dev" }),
          ],
          "a",
        );
        const ids = async (query: Parameters<HistoryStore["events"]>[0]): Promise<string[]> =>
          (await store.events(query)).items.map((e) => `${e.type}:${e.application}:${e.environment ?? "-"}:${e.at.slice(14, 16)}`);
        assert.deepEqual(await ids({ application: "api" }), ["SyncFinished:api:dev:03"]);
        assert.deepEqual(await ids({ environment: "prd" }), ["DriftDetected:web:prd:04", "SyncFinished:web:prd:02"]);
        assert.deepEqual(await ids({ version: "1.0.0" }), ["SyncFinished:web:prd:02", "SyncFinished:web:dev:01"]);
        assert.deepEqual(await ids({ outcome: "Failed" }), ["SyncFinished:api:dev:03"]);
        assert.deepEqual(await ids({ types: ["DriftDetected"] }), ["DriftDetected:web:prd:04"]);
        assert.deepEqual(await ids({ revision: rev(5).slice(0, 10) }), ["SyncFinished:web:dev:05"]);
        assert.deepEqual(await ids({ since: new Date(at(2)), until: new Date(at(4)) }), ["SyncFinished:api:dev:03", "SyncFinished:web:prd:02"]);
        assert.deepEqual(await ids({ application: "web", environment: "dev", version: "1.1.0" }), ["SyncFinished:web:dev:05"]);
        assert.deepEqual(await ids({ revision: "%" }), (await ids({})), "a wildcard is not honoured: it matches like an empty prefix");
      }),
    );

    test(
      "derives deployments: a changed sync replaces the running one, a re-apply of the same state does not",
      withStore(async (store) => {
        await store.append([synced(0, "web", 1, ["1.4.1"])], "a");
        await store.append([synced(10, "web", 1, ["1.4.1"], { trigger: "drift" })], "a");
        await store.append([synced(20, "web", 2, ["1.4.2"], { changed: false, outcome: "Failed" })], "a");
        await store.append([synced(30, "web", 2, ["1.4.2"], { author: "Grace" })], "a");
        const all = (await store.deployments({ application: "web" })).items;
        assert.deepEqual(
          all.map((d) => [d.versions.join(","), d.from, d.to ?? null, d.author]),
          [
            ["1.4.2", at(30), null, "Grace"],
            ["1.4.1", at(0), at(30), "Ada"],
          ],
        );
        const [during] = (await store.deployments({ application: "web", at: new Date(at(15)) })).items;
        assert.equal(during?.versions[0], "1.4.1");
        assert.deepEqual((await store.deployments({ application: "web", at: new Date(at(-1)) })).items, []);
        const [now] = (await store.deployments({ application: "web", at: new Date(at(999)) })).items;
        assert.equal(now?.versions[0], "1.4.2");
        const byVersion = (await store.deployments({ version: "1.4.1" })).items;
        assert.equal(byVersion.length, 1);
        assert.equal(byVersion[0]?.revision, rev(1));
        const started = (await store.events({ application: "web", types: ["SyncFinished"] })).items.at(-1);
        assert.equal(byVersion[0]?.eventId, started?.id);
      }),
    );

    test(
      "a succeeded sync that changed nothing still starts a deployment when the ledger shows another state running",
      withStore(async (store) => {
        await store.append([synced(0, "web", 1, ["1.4.1"])], "a");
        // 1.4.2 was applied by an agent that died before recording it; the next one finds it in place.
        await store.append([synced(10, "web", 2, ["1.4.2"], { changed: false, trigger: "startup" })], "a");
        await store.append([synced(20, "web", 2, ["1.4.2"], { changed: false, trigger: "interval" })], "a");
        const all = (await store.deployments({ application: "web" })).items;
        assert.deepEqual(
          all.map((d) => [d.versions.join(","), d.from, d.to ?? null]),
          [
            ["1.4.2", at(10), null],
            ["1.4.1", at(0), at(10)],
          ],
        );
      }),
    );

    test(
      "keeps one running deployment per application and environment",
      withStore(async (store) => {
        await store.append([synced(0, "web", 1, ["1"], { environment: "dev" }), synced(1, "web", 1, ["1"], { environment: "prd" })], "a");
        await store.append([synced(2, "web", 2, ["2"], { environment: "dev" })], "b");
        const running = (await store.deployments({ application: "web", at: new Date(at(5)) })).items;
        assert.deepEqual(running.map((d) => `${d.environment}:${d.versions[0]}:${d.agent}`).sort(), ["dev:2:b", "prd:1:a"]);
        const inDev = (await store.deployments({ application: "web", environment: "dev" })).items;
        assert.equal(inDev.length, 2);
      }),
    );

    test(
      "links a rollback to the sync it undid and to the deployment of its commit",
      withStore(async (store) => {
        const [first] = await store.append([synced(0, "web", 1, ["1.0"])], "a");
        const [second] = await store.append([synced(5, "web", 2, ["2.0"])], "a");
        const [rollback] = await store.append(
          [{ type: "Rollback", at: at(6), application: "web", revision: rev(3), relatedId: second, author: "Ada", details: { from: rev(2), to: rev(1) } }],
          "a",
        );
        const [sync] = await store.append([synced(7, "web", 3, ["1.0"], { digest: digest(1) })], "a");
        assert.ok(first !== undefined && rollback !== undefined && sync !== undefined);
        const [current] = (await store.deployments({ application: "web", limit: 1 })).items;
        assert.equal(current?.rollbackId, rollback);
        assert.equal(current?.revision, rev(3));
        assert.equal((await store.event(sync))?.relatedId, rollback);
        assert.equal((await store.event(rollback))?.relatedId, second);
        assert.equal(await store.event(999_999), undefined);
      }),
    );

    test(
      "an application that left closes its deployment",
      withStore(async (store) => {
        await store.append([synced(0, "web", 1, ["1"]), { type: "ApplicationRemoved", at: at(3), application: "web", details: { pruned: 2 } }], "a");
        const [gone] = (await store.deployments({ application: "web" })).items;
        assert.equal(gone?.to, at(3));
        assert.deepEqual((await store.deployments({ application: "web", at: new Date(at(4)) })).items, []);
      }),
    );

    test(
      "holds an application until it is released",
      withStore(async (store) => {
        assert.deepEqual(await store.holds(), []);
        await store.hold({ application: "web", reason: "rolled back", since: at(1), eventId: 7 });
        await store.hold({ application: "web", reason: "rolled back again", since: at(2) });
        assert.deepEqual(await store.holds(), [{ application: "web", reason: "rolled back again", since: at(2) }]);
        assert.equal(await store.release("web"), true);
        assert.equal(await store.release("web"), false);
        assert.deepEqual(await store.holds(), []);
      }),
    );

    test(
      "prunes old events and ended deployments, never the running one",
      withStore(async (store) => {
        await store.append([synced(0, "web", 1, ["1"]), synced(10, "web", 2, ["2"]), { type: "DriftDetected", at: at(20), application: "web" }], "a");
        assert.equal(await store.prune(new Date(at(15))), 2);
        assert.deepEqual((await store.events({})).items.map((e) => e.type), ["DriftDetected"]);
        assert.deepEqual((await store.events({ version: "1" })).items, []);
        const left = (await store.deployments({})).items;
        assert.deepEqual(left.map((d) => d.versions[0]), ["2"]);
      }),
    );

    test(
      "promotion events are found by environment and type, and start no deployment",
      withStore(async (store) => {
        const promotion = (minute: number, environment: string, type: "Promotion" | "PromotionGate" | "Approval", outcome: "Succeeded" | "Failed") => ({
          type,
          at: at(minute),
          application: `web-${environment}`,
          environment,
          versions: ["2.0.0"],
          outcome,
          details: { pipeline: "web", to: environment },
        });
        await store.append(
          [
            promotion(1, "dev", "Promotion", "Succeeded"),
            promotion(2, "dev", "PromotionGate", "Succeeded"),
            promotion(3, "acc", "Promotion", "Succeeded"),
            promotion(4, "prd", "Approval", "Succeeded"),
            promotion(5, "acc", "PromotionGate", "Failed"),
          ],
          "a",
        );
        const acc = (await store.events({ environment: "acc", types: ["Promotion", "PromotionGate"] })).items;
        assert.deepEqual(acc.map((e) => [e.type, e.outcome]), [["PromotionGate", "Failed"], ["Promotion", "Succeeded"]]);
        assert.deepEqual((await store.events({ version: "2.0.0", types: ["Approval"] })).items.map((e) => e.environment), ["prd"]);
        assert.deepEqual((await store.events({ types: ["Promotion"] })).items[0]?.details, { pipeline: "web", to: "acc" });
        assert.deepEqual((await store.deployments({})).items, []);
      }),
    );

    test(
      "a batch is all or nothing",
      withStore(async (store) => {
        await assert.rejects(store.append([synced(0, "web", 1, ["1"]), { type: "DriftDetected", at: "not a time", application: "web" }], "a"), /invalid time/);
        assert.deepEqual((await store.events({})).items, []);
        assert.deepEqual((await store.deployments({})).items, []);
      }),
    );

    test(
      "keeps everything across a reopen, migrating only once",
      withStore(async (store, reopen) => {
        if (!reopen) return;
        await store.append([synced(0, "web", 1, ["1"])], "a");
        await store.close();
        const again = await reopen();
        try {
          assert.equal((await again.events({})).items.length, 1);
          assert.equal((await again.deployments({ at: new Date(at(1)) })).items.length, 1);
        } finally {
          await again.close();
        }
      }),
    );
  });
}
