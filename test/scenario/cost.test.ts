// Scenarios of cost following change: a commit runs only the applications
// whose inputs it touched, sync --all runs all, a hand edit is put back promptly.
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { applicationsYaml, filesYaml } from "./fixtures.js";
import { isReady, outputOf, Scenario } from "./harness.js";

test("a commit runs only the applications whose inputs it changed; sync --all runs every one; a hand edit is put back", async (t) => {
  const s = await Scenario.create();
  t.after(() => s.cleanup());
  const files = (name: string, extra = ""): Record<string, string> => ({
    [`apps/${name}/files.yaml`]: filesYaml([{ name: `${name}-a`, path: `${name}/a.txt`, content: `${name}${extra}` }]),
  });
  await s.commit("Add apps", {
    "README.md": "three applications\n",
    "ferry/applications.yaml": applicationsYaml({ name: "one" }, { name: "two" }, { name: "three" }),
    ...files("one"),
    ...files("three"),
    "apps/two/files.yaml": filesYaml([{ name: "two-a", path: "two/a.txt", contentFrom: "../../shared/greeting.txt" }]),
    "shared/greeting.txt": "hello\n",
  });
  s.startAgent({ interval: "1h" });
  const first = new Map<string, string | undefined>();
  for (const name of ["one", "two", "three"]) first.set(name, (await s.waitForReady(name)).lastSync?.finishedAt);
  const initial = await s.metric("ferry_renders_total");

  const readme = await s.commit("Only the README", { "README.md": "still three\n" });
  assert.equal((await s.ferry("refresh")).code, 0);
  for (const name of ["one", "two", "three"]) {
    const status = await s.waitForStatus(name, `current at ${readme.slice(0, 8)}`, (st) => st.sync.revision === readme);
    assert.equal(status.lastSync?.finishedAt, first.get(name), `${name} did not run again`);
    assert.equal(status.inputs?.revision, readme);
  }
  assert.equal(await s.metric("ferry_renders_total"), initial, "a README commit renders nothing");

  const shared = await s.commit("A file one application reads", { "shared/greeting.txt": "hello again\n" });
  assert.equal((await s.ferry("refresh")).code, 0);
  await s.waitForStatus("two", `Ready at ${shared.slice(0, 8)}`, (st) => isReady(st) && st.sync.revision === shared && st.lastSync?.revision === shared);
  assert.equal(await readFile(join(s.root, "two/a.txt"), "utf8"), "hello again\n");
  await s.waitForStatus("three", `current at ${shared.slice(0, 8)}`, (st) => st.sync.revision === shared);
  assert.equal(await s.metric("ferry_renders_total"), initial + 1, "only the application reading the changed file rendered");

  const all = await s.ferry("sync", "--all");
  assert.equal(all.code, 0, outputOf(all));
  assert.match(all.stdout, /^one: Ready, Synced/m);
  assert.equal(await s.metric("ferry_renders_total"), initial + 4, "sync --all renders every application");

  await writeFile(join(s.root, "one/a.txt"), "edited by hand\n");
  await s.waitFor("the hand edit to be put back", async () => (await readFile(join(s.root, "one/a.txt"), "utf8")) === "one\n");
});
