// Scenarios of a service that dies: a crash loop is restarted by its
// supervisor alone, on the documented backoff, with one event per change of
// state; a service killed once is one drift, corrected once.
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { HistoryEntry, Page } from "../../src/history/types.js";
import { applicationsYaml, filesYaml, hostKey, pidInHealth, serviceApp } from "./fixtures.js";
import { freePort, httpGet, isReady, outputOf, scaled, Scenario } from "./harness.js";

/** A Service that logs its start and exits at once, with the default restart policy and backoff. */
const CRASHING_SERVICE = [
  "apiVersion: host.ferry.dev/v1",
  "kind: Service",
  "metadata:",
  "  name: crashy",
  "spec:",
  "  command: node",
  "  args: [-e, 'require(\"fs\").appendFileSync(\"starts.log\", Date.now() + \"\\n\"); process.exit(1)']",
  "",
].join("\n");

function startsOf(s: Scenario): number[] {
  try {
    return readFileSync(join(s.root, "starts.log"), "utf8").split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function historyOf(s: Scenario, app: string): Promise<HistoryEntry[]> {
  const result = await s.ferry("history", app, "--limit", "500", "-o", "json");
  assert.equal(result.code, 0, outputOf(result));
  return [...(JSON.parse(result.stdout) as Page<HistoryEntry>).items].reverse();
}

describe("a service that dies", { concurrency: true }, () => {
  test("a crash loop backs off: at most 6 starts in 20 s at the default backoff, one event per change of state", async (t) => {
    const s = await Scenario.create();
    t.after(() => s.cleanup());
    const revision = await s.commit("Add a service that exits at once", {
      "ferry/applications.yaml": applicationsYaml({ name: "crashy", interval: "1s" }),
      "apps/crashy/service.yaml": CRASHING_SERVICE,
    });
    s.startAgent();
    const first = await s.waitFor("the first start", () => startsOf(s)[0]);
    // The window is the promise itself (20 s at the default backoff): it is measured, not waited on for an event.
    await s.waitFor("20 s after the first start", () => Date.now() >= first + 20_000, undefined, scaled(20_000) + 20_000);
    const starts = startsOf(s).filter((at) => at < first + 20_000);
    assert.ok(starts.length >= 4, `the service is restarted (${starts.length} starts)`);
    assert.ok(starts.length <= 6, `at most 6 starts in 20 s, not ${starts.length}: ${starts.map((at) => at - first).join(", ")} ms\n${s.agentOutput()}`);

    const status = await s.status("crashy");
    const health = status.inventory.find((e) => e.key === hostKey("Service", "crashy"))?.health;
    assert.equal(health?.status, "Degraded");
    assert.match(health?.message ?? "", /exited with code 1; restarting, attempt \d+, next at /);
    assert.equal(status.sync.revision, revision);

    // The first sync, then at most one event per state change (down, back up) of each start.
    const events = await historyOf(s, "crashy");
    const later = events.filter((e) => e.type !== "SyncStarted" && !(e.type === "SyncFinished" && e.revision === revision && e.trigger !== "drift"));
    assert.ok(later.length <= 2 * starts.length, `${later.length} events for ${starts.length} starts: ${events.map((e) => `${e.type}(${e.outcome ?? ""})`).join(", ")}`);
    assert.deepEqual(events.filter((e) => e.type === "SyncFinished" && e.outcome === "Failed"), [], "no failed syncs: restarting is the supervisor's job");
  });

  test("a kill -9 of a healthy service is one drift corrected once, with no failed sync", async (t) => {
    const s = await Scenario.create();
    t.after(() => s.cleanup());
    const port = await freePort();
    const revision = await s.commit("Add web", { "ferry/applications.yaml": applicationsYaml({ name: "web" }), ...serviceApp({ name: "web", port, greeting: "hi" }) });
    s.startAgent();
    const ready = await s.waitForReady("web", revision);
    const pid = pidInHealth(ready.inventory.find((e) => e.key === hostKey("Service", "web"))?.health.message ?? "");
    assert.ok(pid !== undefined);
    process.kill(pid, "SIGKILL");

    await s.waitForHttp(port, (b) => !b.includes(`pid=${pid} `), "a new process");
    const events = await s.waitFor("the drift corrected in the history", async () => {
      const all = await historyOf(s, "web");
      return all.some((e) => e.type === "DriftCorrected") ? all : undefined;
    });
    const status = await s.waitForReady("web");
    assert.ok(isReady(status));
    const after = events.slice(events.findIndex((e) => e.type === "SyncFinished") + 1);
    const kinds = after.map((e) => `${e.type}${e.outcome ? `(${e.outcome})` : ""}`);
    assert.equal(kinds.filter((k) => k === "DriftCorrected").length, 1, kinds.join(", "));
    assert.equal(kinds.filter((k) => k === "SyncFinished(Failed)").length, 0, kinds.join(", "));
    assert.equal(kinds.filter((k) => k === "DriftDetected").length, 1, kinds.join(", "));
  });
});

describe("an agent killed after a sync", { concurrency: true }, () => {
  test("the inventory lost with the record is taken back from what runs, so removing the application from Git prunes it", async (t) => {
    const s = await Scenario.create();
    t.after(() => s.cleanup());
    const port = await freePort();
    const revision = await s.commit("Add web", { "ferry/applications.yaml": applicationsYaml({ name: "web" }), ...serviceApp({ name: "web", port, greeting: "hi" }) });
    const first = s.startAgent();
    await s.waitForReady("web", revision);
    await first.stop();
    // What a kill right after the first sync left: the objects, and no record of the application.
    rmSync(join(s.state, "apps", "web.json"));

    s.startAgent();
    const status = await s.waitForStatus("web", "Ready with its objects in the inventory", (st) => isReady(st) && st.inventory.length === 3);
    assert.deepEqual(status.inventory.map((e) => e.key).sort(), [hostKey("File", "web-config"), hostKey("File", "web-server"), hostKey("Service", "web")].sort());

    await s.commit("Remove web", { "ferry/applications.yaml": applicationsYaml({ name: "other" }), "apps/other/files.yaml": filesYaml([{ name: "other", path: "other.txt", content: "x" }]) });
    await s.waitFor("web's files to be pruned", () => !existsSync(join(s.root, "web", "config.json")));
    await s.waitFor("web's service to stop", async () => (await httpGet(port)) === undefined);
  });
});
