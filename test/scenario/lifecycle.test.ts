// Scenarios of the lifecycle of objects and of the agent: pruning what left
// Git, adopting services after an agent restart, and applying dependencies first.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { ApplicationStatus } from "../../src/engine/status.js";
import { applicationsYaml, filesYaml, hostKey, parseAnswer, pidInHealth, serviceApp } from "./fixtures.js";
import { condition, freePort, httpGet, isReady, isRunning, outputOf, processesIn, Scenario } from "./harness.js";

describe("lifecycle", { concurrency: true }, () => {
  test("an object deleted from Git is pruned; with prune: false it stays until ferry sync --prune", async (t) => {
    const s = await Scenario.create();
    t.after(() => s.cleanup());
    const files = (app: string, extra: boolean): string =>
      filesYaml([
        { name: `${app}-main`, path: `${app}/main.txt`, content: `${app} main` },
        ...(extra ? [{ name: `${app}-extra`, path: `${app}/extra.txt`, content: `${app} extra` }] : []),
      ]);
    const first = await s.commit("Add two applications of files", {
      "ferry/applications.yaml": applicationsYaml({ name: "pruned", prune: true }, { name: "kept", prune: false }),
      "apps/pruned/files.yaml": files("pruned", true),
      "apps/kept/files.yaml": files("kept", true),
    });
    s.startAgent();
    await s.waitForReady("pruned", first);
    await s.waitForReady("kept", first);
    for (const app of ["pruned", "kept"]) assert.equal(readFileSync(join(s.root, app, "extra.txt"), "utf8"), `${app} extra\n`);

    const second = await s.commit("Remove the extra files", { "apps/pruned/files.yaml": files("pruned", false), "apps/kept/files.yaml": files("kept", false) });
    const pruned = await s.waitForReady("pruned", second);
    assert.equal(existsSync(join(s.root, "pruned", "extra.txt")), false, "the file that left Git is deleted");
    assert.equal(existsSync(join(s.root, "pruned", "main.txt")), true);
    assert.deepEqual(pruned.lastSync?.changeSet.deleted, [hostKey("File", "pruned-extra")]);
    assert.deepEqual(
      pruned.inventory.map((e) => e.key),
      [hostKey("File", "pruned-main")],
    );

    const kept = await s.waitForReady("kept", second);
    assert.equal(readFileSync(join(s.root, "kept", "extra.txt"), "utf8"), "kept extra\n", "prune: false keeps the file");
    assert.equal(kept.sync.status, "Synced");

    const sync = await s.ferry("sync", "kept", "--prune");
    assert.equal(sync.code, 0, outputOf(sync));
    assert.equal(existsSync(join(s.root, "kept", "extra.txt")), false, "ferry sync --prune deletes it");
    assert.equal(existsSync(join(s.root, "kept", "main.txt")), true);
    const after = await s.status("kept");
    assert.deepEqual(after.lastSync?.changeSet.deleted, [hostKey("File", "kept-extra")]);
    assert.deepEqual(
      after.inventory.map((e) => e.key),
      [hostKey("File", "kept-main")],
    );
  });

  test("a restarted agent adopts the running service instead of starting another", async (t) => {
    const s = await Scenario.create();
    t.after(() => s.cleanup());
    const port = await freePort();
    // Runs every second, so an interval run of the new agent tells that its first one is over.
    const revision = await s.commit("Add web", { "ferry/applications.yaml": applicationsYaml({ name: "web", interval: "1s" }), ...serviceApp({ name: "web", port, greeting: "Adopted" }) });
    const first = s.startAgent({ json: true });
    await s.waitForReady("web", revision);
    const before = parseAnswer(await s.waitForHttp(port, (b) => b.startsWith("greeting=Adopted "), "the service"));

    const stopped = await first.stop();
    assert.deepEqual(stopped, { code: 0, signal: null }, `the agent stops cleanly on SIGTERM:\n${first.output}`);
    assert.deepEqual(parseAnswer((await httpGet(port)) ?? "no answer\n"), before, "the service outlives the agent");

    const second = s.startAgent({ json: true });
    await s.waitForFirstRunOver(second, "web");
    const syncs = second.events().filter((e) => e.type === "SyncStarted");
    assert.deepEqual(syncs, [], "the first run after the restart changes nothing");
    assert.deepEqual(parseAnswer((await httpGet(port)) ?? "no answer\n"), before, "the same process answers");
    assert.deepEqual(processesIn(join(s.root, "web")), [before.pid], "one service process, not two");
    const status = await s.status("web");
    assert.ok(isReady(status), JSON.stringify(status.conditions));
    assert.equal(pidInHealth(status.inventory.find((e) => e.key === hostKey("Service", "web"))?.health.message ?? ""), before.pid);

    // Adopted means supervised: the new agent restarts the process it did not start.
    process.kill(before.pid, "SIGKILL");
    const restarted = parseAnswer(await s.waitForHttp(port, (b) => parseAnswer(b).pid !== before.pid, "the adopted service to be restarted"));
    assert.equal(isRunning(before.pid), false);
    assert.deepEqual(processesIn(join(s.root, "web")), [restarted.pid]);
  });

  test("an application is applied only after the one it depends on is Ready", async (t) => {
    const s = await Scenario.create();
    t.after(() => s.cleanup());
    const dbPort = await freePort();
    const webPort = await freePort();
    const revision = await s.commit("Add db and web", {
      "ferry/applications.yaml": applicationsYaml({ name: "web", dependsOn: ["db"] }, { name: "db" }),
      ...serviceApp({ name: "db", port: dbPort, greeting: "db", startDelayMs: 1500, startPeriodSeconds: 15 }),
      ...serviceApp({ name: "web", port: webPort, greeting: "web", dependencyUrl: `http://127.0.0.1:${dbPort}/healthz` }),
    });
    const agent = s.startAgent({ json: true });
    const web = await s.waitForReady("web", revision);
    const db = await s.status("db");
    assert.ok(isReady(db));

    // What a user sees: web came up when db already answered.
    assert.equal(parseAnswer((await httpGet(webPort)) ?? "no answer\n").dependency, "up");
    // What status records: web's sync started after db's finished, set off by db becoming Ready.
    assert.ok(db.lastSync && web.lastSync, "both synced");
    assert.ok(web.lastSync.startedAt >= db.lastSync.finishedAt, `web started ${web.lastSync.startedAt}, db finished ${db.lastSync.finishedAt}`);
    assert.equal(web.lastSync.trigger, "dependency");
    // What the agent said, in order: web waited for db, db synced and became Ready, then web synced.
    const events = agent.events();
    const waited = events.findIndex((e) => e.type === "StatusChanged" && e.application === "web" && readyReason(e.status) === "DependencyNotReady");
    const dbSynced = events.findIndex((e) => e.type === "SyncFinished" && e.application === "db" && e.outcome === "Succeeded");
    const dbReady = events.findIndex((e) => e.type === "StatusChanged" && e.application === "db" && readyReason(e.status) === "Succeeded");
    const webStarted = events.findIndex((e) => e.type === "SyncStarted" && e.application === "web");
    assert.ok(waited !== -1 && dbSynced !== -1 && dbReady !== -1 && webStarted !== -1, agent.output);
    assert.ok(waited < dbSynced && dbSynced < dbReady && dbReady < webStarted, `order of events: web waited ${waited}, db synced ${dbSynced}, db Ready ${dbReady}, web started ${webStarted}`);
    assert.equal(events.filter((e) => e.type === "SyncStarted" && e.application === "web").length, 1, "web is applied once, not before db");
  });
});

/** How many runs of an application the agent started (each begins by fetching its source). */

function readyReason(status: unknown): string | undefined {
  return condition(status as ApplicationStatus, "Ready")?.reason;
}
