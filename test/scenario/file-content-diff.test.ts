// A File edited by hand shows what changed as a unified diff of its content,
// in `ferry diff` and `ferry status`, not two digests; a secret File shows no
// content at all.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { applicationsYaml } from "./fixtures.js";
import { outputOf, Scenario } from "./harness.js";

const settings = (extra = ""): string => ["listen: 8080", "workers: 4", "log: info", extra].filter(Boolean).join("\n") + "\n";

function fileYaml(name: string, path: string, content: string, secret = false): string {
  return [
    "apiVersion: host.ferry.dev/v1",
    "kind: File",
    "metadata:",
    `  name: ${name}`,
    ...(secret ? ["  annotations:", '    ferry.dev/secret: "true"'] : []),
    "spec:",
    `  path: ${path}`,
    "  content: |",
    ...content.trimEnd().split("\n").map((l) => `    ${l}`),
    "",
  ].join("\n");
}

test("a File edited by hand shows a unified diff of its content; a secret one shows none", async (t) => {
  const s = await Scenario.create();
  t.after(() => s.cleanup());
  const revision = await s.commit("Add settings", {
    "ferry/applications.yaml": applicationsYaml({ name: "conf", selfHeal: false }),
    "apps/conf/settings.yaml": fileYaml("settings", "conf/settings.yaml", settings()),
    "apps/conf/token.yaml": fileYaml("token", "conf/token", "token-in-git-0123456789", true),
  });
  s.startAgent();
  await s.waitForReady("conf", revision);

  await writeFile(join(s.root, "conf", "settings.yaml"), settings().replace("workers: 4", "workers: 16"));
  await writeFile(join(s.root, "conf", "token"), "token-on-disk-9876543210\n");
  await s.waitForStatus("conf", "drift of both files", (st) => st.drift.length === 2);

  const diff = await s.ferry("diff", "conf");
  assert.equal(diff.code, 1, outputOf(diff));
  assert.match(diff.stdout, /--- a\/.*conf\/settings\.yaml\n\s+\+\+\+ b\/.*conf\/settings\.yaml\n\s+@@ -1,3 \+1,3 @@/);
  assert.match(diff.stdout, /\n\s+-workers: 16\n\s+\+workers: 4\n/);
  assert.doesNotMatch(diff.stdout, /token-(in-git|on-disk)/, "a secret File's content never shows");
  assert.doesNotMatch(diff.stdout, /sha256: "[0-9a-f]{64}"/, "content, not digests");

  const status = await s.ferry("status", "conf");
  assert.match(status.stdout, /Drift:[\s\S]*-workers: 16\n\s+\+workers: 4/);
  assert.doesNotMatch(status.stdout, /token-(in-git|on-disk)/);
  const json = await s.ferry("status", "conf", "-o", "json");
  assert.doesNotMatch(json.stdout, /token-(in-git|on-disk)/);
});
