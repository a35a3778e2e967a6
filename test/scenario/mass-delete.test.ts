// The agent refuses a sync that would delete most of an application's objects.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { applicationsYaml, filesYaml } from "./fixtures.js";
import { condition, outputOf, Scenario } from "./harness.js";

describe("mass-delete guard", () => {
  test("deleting most files of an application in Git stalls with the count; ferry sync --allow-mass-delete prunes them", async (t) => {
    const s = await Scenario.create();
    t.after(() => s.cleanup());
    const names = ["a", "b", "c", "d"];
    const files = (kept: readonly string[]): string => filesYaml(kept.map((n) => ({ name: `site-${n}`, path: `site/${n}.txt`, content: n })));
    const first = await s.commit("A site of four files", { "ferry/apps.yaml": applicationsYaml({ name: "site" }), "apps/site/files.yaml": files(names) });
    s.startAgent();
    await s.waitForReady("site", first);

    await s.commit("Delete three of them", { "apps/site/files.yaml": files(["a"]) });
    const refused = await s.waitForStatus("site", "Stalled: MassDeleteRefused", (st) => condition(st, "Stalled")?.reason === "MassDeleteRefused");
    assert.match(condition(refused, "Stalled")?.message ?? "", /refusing to delete 3 of 4 objects/);
    assert.match(condition(refused, "Stalled")?.message ?? "", /ferry\.dev\/allow-mass-delete: "true"|--allow-mass-delete/);
    for (const n of names) assert.ok(existsSync(join(s.root, "site", `${n}.txt`)), `${n}.txt is still there`);
    assert.equal(refused.sync.revision, first, "the last good revision stays synced");

    const sync = await s.ferry("sync", "site", "--allow-mass-delete");
    assert.equal(sync.code, 0, outputOf(sync));
    assert.ok(existsSync(join(s.root, "site", "a.txt")));
    for (const n of ["b", "c", "d"]) assert.equal(existsSync(join(s.root, "site", `${n}.txt`)), false, `${n}.txt is pruned`);
    const after = await s.status("site");
    assert.equal(condition(after, "Stalled"), undefined);
    assert.equal(after.lastSync?.changeSet.deleted.length, 3);
  });
});
