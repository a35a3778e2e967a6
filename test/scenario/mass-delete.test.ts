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

  test("an emptied Application path is refused like a mass delete; ferry refresh --allow-mass-delete lets it through", async (t) => {
    const s = await Scenario.create();
    t.after(() => s.cleanup());
    const files = filesYaml(["a", "b"].map((n) => ({ name: `page-${n}`, path: `pages/${n}.txt`, content: n })));
    const first = await s.commit("Two pages", { "ferry/apps.yaml": applicationsYaml({ name: "pages", prune: true }), "apps/pages/files.yaml": files });
    s.startAgent();
    await s.waitForReady("pages", first);

    const emptied = await s.commit("Move the Application documents away by mistake", { "ferry/apps.yaml": null, "ferry/.keep": "" });
    const config = await s.waitFor("the emptied configuration to be refused", async () => {
      const result = await s.ferry("status", "-o", "json");
      const list = JSON.parse(result.stdout) as { config?: { lastAttemptedRevision?: string; problems: { message: string }[]; applications: string[] } };
      return list.config?.lastAttemptedRevision === emptied && list.config.problems.length > 0 ? list.config : undefined;
    });
    assert.match(config.problems[0]?.message ?? "", /ferry holds no Application any more; refusing to remove all 1 and prune 2 objects of pages.*ferry refresh --allow-mass-delete/);
    assert.deepEqual(config.applications, ["pages"]);
    for (const n of ["a", "b"]) assert.ok(existsSync(join(s.root, "pages", `${n}.txt`)), `${n}.txt is still there`);

    const refresh = await s.ferry("refresh", "--allow-mass-delete");
    assert.equal(refresh.code, 0, outputOf(refresh));
    await s.waitFor("the pages to be pruned", () => !existsSync(join(s.root, "pages", "a.txt")) && !existsSync(join(s.root, "pages", "b.txt")));
  });
});
