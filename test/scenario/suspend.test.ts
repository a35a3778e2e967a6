// ferry suspend / resume: a runtime override of the agent, kept across restarts.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { applicationsYaml, filesYaml } from "./fixtures.js";
import { condition, outputOf, Scenario } from "./harness.js";

describe("suspend and resume", () => {
  test("a suspended application is neither synced nor healed, reports drift, stays suspended across a restart, and catches up on resume", async (t) => {
    const s = await Scenario.create();
    t.after(() => s.cleanup());
    const site = (text: string): string => filesYaml([{ name: "page", path: "site/page.txt", content: text }]);
    const page = join(s.root, "site", "page.txt");
    const first = await s.commit("A page", { "ferry/apps.yaml": applicationsYaml({ name: "site", selfHeal: true, interval: "1s" }), "apps/site/files.yaml": site("one") });
    let agent = s.startAgent();
    await s.waitForReady("site", first);

    const suspended = await s.ferry("suspend", "site", "--reason", "freeze for the audit");
    assert.equal(suspended.code, 0, outputOf(suspended));
    assert.match(suspended.stdout, /site is suspended by .+ at .+: freeze for the audit/);
    const shown = await s.waitForStatus("site", "suspended", (st) => st.suspended && condition(st, "Ready")?.reason === "Suspended");
    assert.equal(shown.suspension?.reason, "freeze for the audit");
    assert.match(condition(shown, "Ready")?.message ?? "", /^suspended by .+ at \d{4}-/);

    writeFileSync(page, "edited by hand");
    const drifted = await s.waitForStatus("site", "drift reported", (st) => st.drift.length > 0);
    assert.equal(drifted.suspended, true);
    assert.match(condition(drifted, "Ready")?.message ?? "", /differs from Git/);
    assert.equal(readFileSync(page, "utf8"), "edited by hand", "a suspended application is not self-healed");

    // Restarted, the agent keeps the suspension; a new revision is seen but not applied.
    await agent.stop();
    agent = s.startAgent();
    const second = await s.commit("A new page", { "apps/site/files.yaml": site("two") });
    const held = await s.waitForStatus("site", "newest revision seen, not applied", (st) => st.lastAttemptedRevision === second);
    assert.equal(held.suspension?.reason, "freeze for the audit");
    assert.equal(held.sync.revision, first);
    assert.equal(readFileSync(page, "utf8"), "edited by hand", "a suspended application is not synced");
    assert.match(condition(held, "Ready")?.message ?? "", /^suspended by .*is not applied/);

    const sync = await s.ferry("sync", "site");
    assert.notEqual(sync.code, 0, "a sync of a suspended application is refused");
    assert.match(outputOf(sync), /suspended by .*resume/);

    const resumed = await s.ferry("resume", "site");
    assert.equal(resumed.code, 0, outputOf(resumed));
    const after = await s.waitForReady("site", second);
    assert.equal(after.suspended, false);
    assert.equal(after.suspension, undefined);
    assert.notEqual(condition(after, "Ready")?.reason, "Suspended");
    assert.equal(readFileSync(page, "utf8"), "two\n");

    const history = await s.ferry("history", "site", "--type", "Suspend,Resume", "-o", "json");
    assert.equal(history.code, 0, outputOf(history));
    const types = (JSON.parse(history.stdout) as { items: { type: string; author?: string }[] }).items.map((e) => e.type);
    assert.deepEqual(types.sort(), ["Resume", "Suspend"]);
    await agent.stop();
  });
});
