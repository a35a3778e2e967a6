// Secret values (env variables with secret names, objects marked ferry.dev/secret) never reach
// diffs, status, history, the agent's output or its state files, while changes are still found.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, test } from "node:test";
import { applicationsYaml, hostKey } from "./fixtures.js";
import { isReady, outputOf, Scenario } from "./harness.js";

const FILE_SECRET = "file-secret-Xq7v";
const FILE_EDITED = "hand-edited-secret-Pz3k";

function manifests(password: string): Record<string, string> {
  return {
    "apps/api/service.yaml": [
      "apiVersion: host.ferry.dev/v1",
      "kind: Service",
      "metadata:",
      "  name: api",
      "spec:",
      "  command: node",
      '  args: ["-e", "setInterval(() => {}, 1000)"]',
      "  env:",
      `    DB_PASSWORD: ${password}`,
      `    LICENSE: ${password}-license`,
      `    GREETING: hello-${password.length}`,
      "  secretEnv: [LICENSE]",
      "  stop:",
      "    gracePeriodSeconds: 2",
      "",
    ].join("\n"),
    "apps/api/secret.yaml": [
      "apiVersion: host.ferry.dev/v1",
      "kind: File",
      "metadata:",
      "  name: api-key",
      "  annotations:",
      '    ferry.dev/secret: "true"',
      "spec:",
      "  path: api/key.txt",
      `  content: ${FILE_SECRET}`,
      "",
    ].join("\n"),
  };
}

/** Every JSON file under `dir` (the host target's records included), except the checkouts of Git, which hold what was committed. */
function stateJsonFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      const rel = relative(dir, full);
      if (rel === "sources") continue;
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(".json") || entry.name.endsWith(".jsonl")) out.push(full);
    }
  };
  walk(dir);
  return out;
}

describe("secrets", () => {
  test("a changed DB_PASSWORD and a hand-edited secret File are reported and corrected without their values", async (t) => {
    const s = await Scenario.create();
    t.after(() => s.cleanup());
    const sha = (text: string): string => createHash("sha256").update(text).digest("hex");
    const secrets = ["hunter2", "hunter3", FILE_SECRET, FILE_EDITED, sha(FILE_SECRET), sha(FILE_EDITED)];
    const assertClean = (what: string, text: string): void => {
      for (const secret of secrets) assert.ok(!text.includes(secret), `${what} contains ${JSON.stringify(secret)}:\n${text}`);
    };

    const first = await s.commit("api with a password", {
      "ferry/apps.yaml": applicationsYaml({ name: "api", selfHeal: false }),
      ...manifests("hunter2"),
    });
    s.startAgent({ json: true });
    await s.waitForReady("api", first);

    // What merging the new password would change: the field, not the values.
    await s.git("checkout", "-q", "-b", "rotate");
    const rotated = await s.commit("rotate the password", manifests("hunter3"));
    await s.git("checkout", "-q", "main");
    const preview = await s.ferry("diff", "--revision", "rotate");
    assert.equal(preview.code, 1, outputOf(preview));
    assert.match(preview.stdout, /env\.DB_PASSWORD: "\(secret\)" -> "\(secret\)"/);
    assert.match(preview.stdout, /env\.LICENSE: "\(secret\)" -> "\(secret\)"/);
    assertClean("ferry diff --revision", outputOf(preview));
    const previewJson = await s.ferry("diff", "--revision", rotated.slice(0, 10), "-o", "json");
    assert.equal(previewJson.code, 1, outputOf(previewJson));
    assertClean("ferry diff --revision -o json", previewJson.stdout);
    const api = (JSON.parse(previewJson.stdout) as { applications: { name: string; changed: { key: string; differences: { path: string }[] }[] }[] }).applications[0];
    assert.deepEqual(api?.changed.map((c) => [c.key, c.differences.map((d) => d.path)]), [[hostKey("Service", "api"), ["/env/DB_PASSWORD", "/env/LICENSE"]]]);

    await s.git("merge", "-q", "--ff-only", "rotate");
    const applied = await s.waitForReady("api", rotated);
    assert.deepEqual(applied.lastSync?.changeSet.configured, [hostKey("Service", "api")], "the new password replaced the service");

    // A hand edit of the secret file: drift is reported (self-heal is off) without the content or its digest.
    writeFileSync(join(s.root, "api", "key.txt"), FILE_EDITED);
    const drifted = await s.waitForStatus("api", "drift of the secret file", (st) => st.drift.some((d) => d.key === hostKey("File", "api-key")));
    assert.ok(drifted.drift.find((d) => d.key === hostKey("File", "api-key"))?.differences.some((d) => d.path === "/sha256" && d.desired === "(secret)"));
    const diff = await s.ferry("diff", "api");
    assert.equal(diff.code, 1, outputOf(diff));
    assert.match(diff.stdout, /~ File\/api-key\n\s+sha256: "\(secret\)" -> "\(secret\)"/);
    assertClean("ferry diff", outputOf(diff));
    const status = await s.ferry("status", "api", "-o", "json");
    assertClean("ferry status -o json", status.stdout);

    const sync = await s.ferry("sync", "api");
    assert.equal(sync.code, 0, outputOf(sync));
    assert.equal(readFileSync(join(s.root, "api", "key.txt"), "utf8"), FILE_SECRET, "the file is put back");
    assertClean("ferry sync", outputOf(sync));
    await s.waitForStatus("api", "Ready without drift", (st) => isReady(st) && st.drift.length === 0);

    const history = await s.ferry("history", "-o", "json");
    assert.equal(history.code, 0, outputOf(history));
    assert.match(history.stdout, /DriftDetected/);
    assertClean("ferry history -o json", history.stdout);
    assertClean("ferry status -o json", (await s.ferry("status", "-o", "json")).stdout);
    await s.agent.stop();
    assert.ok(s.agent.events().some((e) => e.type === "DriftDetected"), "the agent printed the drift");
    assertClean("the agent's output", s.agent.output);
    const files = stateJsonFiles(s.state);
    assert.ok(files.length > 0);
    for (const file of files) assertClean(relative(s.state, file), readFileSync(file, "utf8"));
  });
});
