// `ferry diff --revision`: what merging a branch or commit would change in the live environment, applying nothing.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { applicationsYaml, filesYaml, hostKey, lineOf } from "./fixtures.js";
import { outputOf, Scenario } from "./harness.js";

interface JsonReport {
  revision: string;
  applications: { name: string; newApplication?: boolean; created?: string[]; changed?: { key: string; differences: { path: string }[] }[]; pruned?: string[]; error?: string }[];
  skipped: { name: string }[];
}

describe("ferry diff --revision", () => {
  test("a branch and a commit prefix show what merging would create, change and prune, and new applications; nothing is applied", async (t) => {
    const s = await Scenario.create();
    t.after(() => s.cleanup());
    const web = (files: Record<string, string>): string => filesYaml(Object.entries(files).map(([n, content]) => ({ name: `web-${n}`, path: `web/${n}.txt`, content })));
    const first = await s.commit("web", {
      "ferry/apps.yaml": applicationsYaml({ name: "web", prune: true }),
      "apps/web/files.yaml": web({ a: "one", b: "two" }),
    });
    s.startAgent();
    await s.waitForReady("web", first);

    await s.git("checkout", "-q", "-b", "feature");
    const feature = await s.commit("change a, drop b, add c; a new application", {
      "ferry/apps.yaml": applicationsYaml({ name: "web", prune: true }, { name: "extra" }),
      "apps/web/files.yaml": web({ a: "uno", c: "tres" }),
      "apps/extra/files.yaml": filesYaml([{ name: "extra-x", path: "extra/x.txt", content: "x" }]),
    });
    const broken = "apiVersion: host.ferry.dev/v1\nkind: File\nmetadata:\n  name: web-a\nspec:\n  path: web/a.txt\n  contnet: oops\n";
    await s.git("checkout", "-q", "-b", "broken", first);
    await s.commit("a typo", { "apps/web/files.yaml": broken });
    await s.git("checkout", "-q", "main");

    const text = await s.ferry("diff", "--revision", "feature");
    assert.equal(text.code, 1, outputOf(text));
    assert.match(text.stdout, /^web at [0-9a-f]{8} \(feature\): 1 created, 1 changed, 1 pruned$/m);
    assert.match(text.stdout, /~ File\/web-a\n\s+content \(live -> Git\):\n[\s\S]*@@ -1,1 \+1,1 @@\n\s+-one\n\s+\+uno/);
    assert.match(text.stdout, /\+ File\/web-c \(will be created\)/);
    assert.match(text.stdout, /- File\/web-b/);
    assert.match(text.stdout, /^extra: new application \(not in the running configuration\) at [0-9a-f]{8} \(feature\): 1 created, 0 changed, 0 pruned$/m);

    const json = await s.ferry("diff", "--revision", feature.slice(0, 9), "-o", "json");
    assert.equal(json.code, 1, outputOf(json));
    const report = JSON.parse(json.stdout) as JsonReport;
    const byName = new Map(report.applications.map((a) => [a.name, a]));
    assert.deepEqual(byName.get("web")?.created, [hostKey("File", "web-c")]);
    assert.deepEqual(byName.get("web")?.changed?.map((c) => c.key), [hostKey("File", "web-a")]);
    assert.deepEqual(byName.get("web")?.pruned, [hostKey("File", "web-b")]);
    assert.equal(byName.get("extra")?.newApplication, true);
    assert.deepEqual(byName.get("extra")?.created, [hostKey("File", "extra-x")]);

    const same = await s.ferry("diff", "web", "--revision", "main");
    assert.equal(same.code, 0, outputOf(same));
    assert.match(same.stdout, /^web at [0-9a-f]{8} \(main\): nothing would change$/m);

    const bad = await s.ferry("diff", "web", "--revision", "broken");
    assert.equal(bad.code, 1, outputOf(bad));
    assert.match(bad.stdout, new RegExp(`web: would not sync at broken: .*apps/web/files\\.yaml:${lineOf(broken, "contnet")}:`));

    const unknown = await s.ferry("diff", "--revision", "no-such-branch");
    assert.equal(unknown.code, 2, outputOf(unknown));
    assert.match(unknown.stderr, /revision "no-such-branch" not found/);
    const unknownCommit = await s.ferry("diff", "--revision", "0123456789abc");
    assert.equal(unknownCommit.code, 2, outputOf(unknownCommit));

    // Nothing was applied: the live files are those of main.
    assert.deepEqual(readdirSync(join(s.root, "web")).sort(), ["a.txt", "b.txt"]);
    assert.equal(readFileSync(join(s.root, "web", "a.txt"), "utf8"), "one\n");
    assert.equal((await s.status("web")).sync.revision, first);

    // Without an agent, in-process, the same answer.
    await s.agent.stop();
    const offline = await s.ferry("diff", "--revision", "feature", "-o", "json");
    assert.equal(offline.code, 1, outputOf(offline));
    assert.deepEqual(
      (JSON.parse(offline.stdout) as JsonReport).applications.map((a) => [a.name, a.created, a.pruned]),
      report.applications.map((a) => [a.name, a.created, a.pruned]),
    );
    assert.deepEqual(readdirSync(join(s.root, "web")).sort(), ["a.txt", "b.txt"]);
  });
});
