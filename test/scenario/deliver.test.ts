// Scenarios of the happy path: a commit reaches the running service; a killed
// service comes back; a hand edit is corrected, or only reported when self-heal is off.
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { applicationsYaml, configJson, hostKey, parseAnswer, pidInHealth, serviceApp } from "./fixtures.js";
import { freePort, isReady, isRunning, outputOf, processesIn, Scenario } from "./harness.js";

describe("delivering commits", { concurrency: true }, () => {
  test("a commit is applied after ferry refresh, with polling too slow to notice it", async (t) => {
    const s = await Scenario.create();
    t.after(() => s.cleanup());
    const port = await freePort();
    const first = await s.commit("Add web", { "ferry/applications.yaml": applicationsYaml({ name: "web" }), ...serviceApp({ name: "web", port, greeting: "Hello one" }) });
    s.startAgent({ interval: "1h" });
    await s.waitForReady("web", first);
    const before = parseAnswer(await s.waitForHttp(port, (b) => b.startsWith("greeting=Hello one "), "the first greeting"));

    const second = await s.commit("Say hello two", serviceApp({ name: "web", port, greeting: "Hello two" }));
    const refresh = await s.ferry("refresh");
    assert.equal(refresh.code, 0, outputOf(refresh));

    const after = parseAnswer(await s.waitForHttp(port, (b) => b.startsWith("greeting=Hello two "), "the greeting of the second commit"));
    assert.equal(after.pid, before.pid, "a changed File must not restart the service that reads it");
    const status = await s.waitForReady("web", second);
    assert.equal(status.lastSync?.commit?.subject, "Say hello two");
    assert.deepEqual(status.lastSync?.changeSet.configured, [hostKey("File", "web-config")]);
  });

  test("a commit is applied by polling alone, and a changed Service is replaced", async (t) => {
    const s = await Scenario.create();
    t.after(() => s.cleanup());
    const port = await freePort();
    const first = await s.commit("Add web", { "ferry/applications.yaml": applicationsYaml({ name: "web" }), ...serviceApp({ name: "web", port, greeting: "Hello one" }) });
    s.startAgent();
    await s.waitForReady("web", first);
    const before = parseAnswer(await s.waitForHttp(port, (b) => b.startsWith("greeting=Hello one "), "the first greeting"));

    // A new environment variable changes the Service spec: its process is replaced.
    const second = await s.commit("Say hello two and restart", serviceApp({ name: "web", port, greeting: "Hello two", startDelayMs: 1 }));
    // The old process may answer with the new greeting first (config.json is
    // written before the Service is replaced): wait for the new process.
    const after = parseAnswer(
      await s.waitForHttp(port, (b) => b.startsWith("greeting=Hello two ") && parseAnswer(b).pid !== before.pid, "a new process with the greeting of the second commit"),
    );
    const status = await s.waitForReady("web", second);
    assert.equal(isRunning(before.pid), false, `the old process ${before.pid} must be stopped`);
    assert.deepEqual(processesIn(join(s.root, "web")), [after.pid], "exactly one service process runs");
    assert.deepEqual([...(status.lastSync?.changeSet.configured ?? [])].sort(), [hostKey("File", "web-config"), hostKey("Service", "web")]);
    await s.waitFor("the agent to log the sync of the second commit", () => s.agent.output.includes(`synced ${second.slice(0, 8)} "Say hello two and restart"`));
  });

  test("a killed service is restarted and status follows the new process", async (t) => {
    const s = await Scenario.create();
    t.after(() => s.cleanup());
    const port = await freePort();
    await s.commit("Add web", { "ferry/applications.yaml": applicationsYaml({ name: "web" }), ...serviceApp({ name: "web", port, greeting: "Hello" }) });
    s.startAgent();
    const ready = await s.waitForReady("web");
    const recorded = pidInHealth(ready.inventory.find((e) => e.key === hostKey("Service", "web"))?.health.message ?? "");
    const answer = parseAnswer(await s.waitForHttp(port, (b) => b.startsWith("greeting=Hello "), "the service"));
    assert.equal(recorded, answer.pid, "status names the pid that answers");

    process.kill(answer.pid, "SIGKILL");
    const restarted = parseAnswer(await s.waitForHttp(port, (b) => parseAnswer(b).pid !== answer.pid, "a new process to answer"));
    assert.equal(isRunning(answer.pid), false);
    const status = await s.waitForStatus("web", `Ready with the new pid ${restarted.pid} in its inventory`, (st) => {
      const health = st.inventory.find((e) => e.key === hostKey("Service", "web"))?.health;
      return isReady(st) && health?.status === "Healthy" && pidInHealth(health.message) === restarted.pid;
    });
    assert.equal(status.health.status, "Healthy");
    assert.deepEqual(processesIn(join(s.root, "web")), [restarted.pid]);
  });
});

describe("drift", { concurrency: true }, () => {
  test("a managed file edited by hand is put back and the correction is reported", async (t) => {
    const s = await Scenario.create();
    t.after(() => s.cleanup());
    const port = await freePort();
    const revision = await s.commit("Add web", { "ferry/applications.yaml": applicationsYaml({ name: "web" }), ...serviceApp({ name: "web", port, greeting: "From Git" }) });
    s.startAgent();
    await s.waitForReady("web", revision);
    const config = join(s.root, "web", "config.json");
    assert.equal(await readFile(config, "utf8"), configJson("From Git"));

    await writeFile(config, configJson("Edited by hand"));
    await s.waitFor("the hand edit to be undone", async () => (await readFile(config, "utf8")) === configJson("From Git"));
    await s.waitForHttp(port, (b) => b.startsWith("greeting=From Git "), "the greeting from Git");
    const status = await s.waitForStatus("web", "a drift correction as its last sync", (st) => st.lastSync?.trigger === "drift" && isReady(st));
    assert.deepEqual(status.lastSync?.changeSet.configured, [hostKey("File", "web-config")]);
    assert.equal(status.lastSync?.outcome, "Succeeded");
    assert.deepEqual(status.drift, []);
    await s.waitFor("the agent to log the drift and its correction", () => /drift: File\/web-config .*correcting/.test(s.agent.output) && s.agent.output.includes("drift corrected: File/web-config"));
  });

  test("with selfHeal off, a hand edit is reported as drift and kept until ferry sync", async (t) => {
    const s = await Scenario.create();
    t.after(() => s.cleanup());
    const port = await freePort();
    const revision = await s.commit("Add web", {
      "ferry/applications.yaml": applicationsYaml({ name: "web", selfHeal: false, interval: "500ms" }),
      ...serviceApp({ name: "web", port, greeting: "From Git" }),
    });
    const agent = s.startAgent({ json: true });
    await s.waitForReady("web", revision);
    const config = join(s.root, "web", "config.json");

    await writeFile(config, configJson("Edited by hand"));
    const drifted = await s.waitForStatus("web", "drift reported", (st) => st.drift.length > 0);
    assert.deepEqual(
      drifted.drift.map((d) => d.key),
      [hostKey("File", "web-config")],
    );
    assert.equal(drifted.conditions.find((c) => c.type === "Ready")?.status, "False");
    assert.equal(drifted.conditions.find((c) => c.type === "Ready")?.reason, "DriftDetected");
    assert.match(drifted.conditions.find((c) => c.type === "Ready")?.message ?? "", /self-heal is off/);
    const text = await s.ferry("status", "web");
    assert.equal(text.code, 1, "status exits 1 while the application is not Ready");
    assert.match(text.stdout, /Drift:\n {2}File\/web-config/);

    // Runs keep happening (every 500ms) and none of them may put the file back.
    const runsSoFar = countRuns(agent.events());
    await s.waitFor("two more runs of web", () => countRuns(agent.events()) >= runsSoFar + 2);
    assert.equal(await readFile(config, "utf8"), configJson("Edited by hand"), "self-heal is off: the edit stays");
    assert.ok(
      agent.events().some((e) => e.type === "DriftDetected" && e.application === "web" && e.selfHeal === false),
      "the agent reported the drift as an event",
    );

    const diff = await s.ferry("diff", "web");
    assert.equal(diff.code, 1, `diff exits 1 when a sync would change something: ${outputOf(diff)}`);
    assert.match(diff.stdout, /File\/web-config/);

    const sync = await s.ferry("sync", "web");
    assert.equal(sync.code, 0, outputOf(sync));
    assert.equal(await readFile(config, "utf8"), configJson("From Git"), "ferry sync restores the file");
    const synced = await s.status("web");
    assert.ok(isReady(synced), JSON.stringify(synced.conditions));
    assert.deepEqual(synced.drift, []);
    const inSync = await s.ferry("diff", "web");
    assert.equal(inSync.code, 0, outputOf(inSync));
  });
});

/** How many times the agent started a run of `web` (each run begins by fetching its source). */
function countRuns(events: readonly Record<string, unknown>[]): number {
  return events.filter((e) => e.type === "Progress" && e.application === "web" && e.message === "fetching source").length;
}
