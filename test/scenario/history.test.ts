// Scenarios of the history: versions bumped and synced, the questions
// "which version ran when" and "what ran then" answered, and a rollback
// written to Git, synced, and linked to what it undid. The same scenario runs
// on the embedded SQLite history and on a shared PostgreSQL one.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import type { RollbackResult } from "../../src/agent/rollback.js";
import type { Deployment, HistoryEntry, Page } from "../../src/history/types.js";
import { createTestDatabase, startTestPostgres } from "../support/postgres.js";
import { applicationsYaml, parseAnswer, serviceApp } from "./fixtures.js";
import { freePort, outputOf, Scenario } from "./harness.js";

const postgres = await startTestPostgres();
if ("skip" in postgres) console.log(`# the PostgreSQL history scenario is skipped: ${postgres.skip}`);

describe("history and rollback", { concurrency: true }, () => {
  after(async () => {
    if (!("skip" in postgres)) await postgres.stop();
  });

  test("on SQLite: versions bumped twice, the history answers, a rollback is committed, synced and linked", async (t) => {
    await historyScenario(t, []);
  });

  test("on PostgreSQL: the same, written to a shared server", async (t) => {
    if ("skip" in postgres) return t.skip(postgres.skip);
    const db = await createTestDatabase(postgres);
    t.after(() => db.drop());
    await historyScenario(t, ["--history", db.url]);
  });
});

async function historyScenario(t: { after: (fn: () => Promise<void>) => void }, historyArgs: readonly string[]): Promise<void> {
  const s = await Scenario.create();
  t.after(() => s.cleanup());
  const port = await freePort();
  const app = (version: string): Record<string, string> => serviceApp({ name: "web", port, greeting: `v${version}`, version });
  const json = async <T>(...args: string[]): Promise<T> => {
    const result = await s.ferry(...args, ...historyArgs, "-o", "json");
    assert.equal(result.code, 0, outputOf(result));
    return JSON.parse(result.stdout) as T;
  };

  const first = await s.commit("Add web 1.0.0", { "ferry/applications.yaml": applicationsYaml({ name: "web", environment: "prd" }), ...app("1.0.0") });
  s.startAgent({ extra: historyArgs });
  await s.waitForReady("web", first);
  const second = await s.commit("Bump web to 1.1.0", app("1.1.0"));
  await s.waitForReady("web", second);
  await s.waitForHttp(port, (b) => b.startsWith("greeting=v1.1.0 "), "version 1.1.0 to answer");
  const third = await s.commit("Bump web to 1.2.0", app("1.2.0"));
  await s.waitForReady("web", third);
  await s.waitForHttp(port, (b) => b.startsWith("greeting=v1.2.0 "), "version 1.2.0 to answer");
  const unrelated = await s.commit("Document the service", { "README.md": "web says hello\n" });
  await s.waitForReady("web", unrelated);

  // Every sync is there, newest first, with its commit.
  const syncs = await s.waitFor("three syncs in the history", async () => {
    const page = await json<Page<HistoryEntry>>("history", "web", "--type", "SyncFinished");
    return page.items.length >= 3 ? page : undefined;
  });
  assert.deepEqual(
    syncs.items.map((e) => [e.revision, e.versions, e.subject, e.environment, e.outcome]),
    [
      [third, ["1.2.0"], "Bump web to 1.2.0", "prd", "Succeeded"],
      [second, ["1.1.0"], "Bump web to 1.1.0", "prd", "Succeeded"],
      [first, ["1.0.0"], "Add web 1.0.0", "prd", "Succeeded"],
    ],
  );

  // Which version ran where, from when to when, and who put it there.
  const ran = await json<Page<Deployment>>("history", "--version", "1.1.0");
  assert.equal(ran.items.length, 1);
  const v11 = ran.items[0];
  assert.ok(v11?.to, "1.1.0 was replaced by 1.2.0");
  assert.deepEqual([v11.application, v11.environment, v11.revision, v11.author], ["web", "prd", second, "Ferry Scenario"]);
  const text = await s.ferry("history", "--version", "1.1.0", ...historyArgs);
  assert.match(text.stdout, /version 1\.1\.0 ran:/);
  assert.match(text.stdout, new RegExp(`web\\s+prd\\s+1\\.1\\.0\\s+${second.slice(0, 8)}`));

  // What ran at a time: between the bumps, 1.1.0; now, 1.2.0.
  const between = new Date((Date.parse(v11.from) + Date.parse(v11.to)) / 2).toISOString();
  const then = await json<Page<Deployment>>("history", "web", "--at", between);
  assert.deepEqual(
    then.items.map((d) => d.versions),
    [["1.1.0"]],
  );
  const now = await json<Page<Deployment>>("history", "web", "--at", "now");
  assert.deepEqual(
    now.items.map((d) => d.versions),
    [["1.2.0"]],
  );

  // A revision that never ran is refused, and nothing is committed.
  const refused = await s.ferry("rollback", "web", "--to", "deadbeef");
  assert.equal(refused.code, 2, outputOf(refused));
  assert.match(refused.stderr, /revision deadbeef never ran for web in prd/);
  assert.equal(await s.head(), unrelated);

  // Roll back: the commit is in Git, the agent syncs it, the old version answers.
  const rolled = await s.ferry("rollback", "web", "--reason", "1.2.0 breaks checkout", "-o", "json");
  assert.equal(rolled.code, 0, outputOf(rolled));
  const result = JSON.parse(rolled.stdout) as RollbackResult;
  assert.deepEqual([result.from.versions, result.to.versions], [["1.2.0"], ["1.1.0"]]);
  const head = await s.head();
  assert.equal(head, result.commit, "the rollback commit is on main, and the repository's work tree follows it");
  const message = await s.git("log", "-1", "--format=%B");
  assert.match(message, /^Roll back web in prd to 1\.1\.0 \([0-9a-f]{8}\)\n/);
  assert.match(message, /Reason: 1\.2\.0 breaks checkout/);
  assert.match(message, new RegExp(`Ferry-Rollback-Of: ${third}`));
  assert.match(message, new RegExp(`Ferry-Rollback-To: ${second}`));
  assert.equal(s.read("apps/web/service.yaml"), app("1.1.0")["apps/web/service.yaml"]);
  assert.equal(s.read("README.md"), "web says hello\n", "only the application's directory is restored");
  await s.waitForReady("web", head);
  const answer = parseAnswer(await s.waitForHttp(port, (b) => b.startsWith("greeting=v1.1.0 "), "version 1.1.0 to answer again"));
  assert.ok(answer.pid > 0);

  // The history links the rollback to the sync it undid and to the deployment of its commit.
  const current = await s.waitFor("the rollback's deployment", async () => {
    const page = await json<Page<Deployment>>("history", "web", "--at", "now");
    return page.items[0]?.revision === head ? page.items[0] : undefined;
  });
  const rollbacks = await json<Page<HistoryEntry>>("history", "web", "--type", "Rollback");
  const rollback = rollbacks.items[0];
  assert.ok(rollback);
  assert.equal(current.rollbackId, rollback.id);
  assert.deepEqual(current.versions, ["1.1.0"]);
  const undone = syncs.items[0];
  assert.equal(rollback.relatedId, undone?.id, "the rollback names the sync of 1.2.0");
  assert.equal(rollback.revision, head);
  const listing = await s.ferry("history", "web", ...historyArgs);
  assert.match(listing.stdout, /Rollback\s+[0-9a-f]{8}\s+1\.1\.0/);
  assert.match(listing.stdout, /Hold/);

  // The hold stays until released.
  const released = await s.ferry("release", "web");
  assert.equal(released.code, 0, outputOf(released));
  assert.match(released.stdout, /released web/);
  const again = await s.ferry("release", "web");
  assert.match(again.stdout, /web was not on hold/);
}
