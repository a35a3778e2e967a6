// `ferry validate` as a pull-request check runs it: on a checkout, offline, no agent.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { applicationsYaml, filesYaml, lineOf, serviceApp } from "./fixtures.js";
import { outputOf, runCli, Scenario } from "./harness.js";

interface JsonProblem {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly field: string | null;
  readonly severity: string;
  readonly message: string;
  readonly rule: string;
}

const POLICY = `apiVersion: ferry.dev/v1
kind: Policy
metadata:
  name: baseline
spec:
  rules:
    - name: no-shell
      match: {kind: Service}
      forbid: {pointer: /spec/command, pattern: "^(sh|bash)$"}
`;

describe("ferry validate", { concurrency: true }, () => {
  test("a clean checkout exits 0; every kind of broken input exits 1 naming file and line", async (t) => {
    const s = await Scenario.create();
    t.after(() => s.cleanup());
    await s.commit("Two good applications", {
      "ferry/apps.yaml": applicationsYaml({ name: "web" }, { name: "db", dependsOn: ["web"] }),
      "ferry/policies.yaml": POLICY,
      ...serviceApp({ name: "web", port: 18080, greeting: "hello" }),
      "apps/db/files.yaml": filesYaml([{ name: "db-config", path: "db/config", content: "x" }]),
    });
    const clean = await s.ferry("validate", s.repo);
    assert.equal(clean.code, 0, outputOf(clean));
    assert.match(clean.stdout, /^valid \(2 applications/m);

    const service = serviceApp({ name: "web", port: 18080, greeting: "hello" })["apps/web/service.yaml"] ?? "";
    const broken: Record<string, string> = {
      "ferry/apps.yaml": applicationsYaml({ name: "web" }, { name: "db", dependsOn: ["cache"] }, { name: "a", dependsOn: ["b"] }, { name: "b", dependsOn: ["a"] }),
      "apps/web/service.yaml": service.replace("  command: node", "  comand: node"),
      "apps/web/broken.yaml": "apiVersion: host.ferry.dev/v1\nkind: File\nmetadata:\n  name: [oops\n",
      "apps/web/unknown.yaml": "apiVersion: host.ferry.dev/v1\nkind: Deployment\nmetadata:\n  name: web\nspec: {}\n",
      "apps/db/files.yaml": filesYaml([
        { name: "db-config", path: "db/config", content: "x" },
        { name: "web-config", path: "db/web.json", content: "{}" },
        { name: "db-seed", path: "db/seed.sql", contentFrom: "seed.sql" },
        { name: "db-escape", path: "../../etc/cron.d/x", content: "x" },
      ]),
      "apps/a/a.yaml": "apiVersion: host.ferry.dev/v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  command: sh\n",
      "apps/b/b.yaml": filesYaml([{ name: "b", path: "b/x", content: "x" }]),
    };
    await s.commit("Break it in every way", broken);
    // A fresh clone: what a CI job checks out.
    const checkout = join(s.dir, "checkout");
    await s.git("clone", "-q", s.repo, checkout);

    const text = await runCli(["validate"], { cwd: checkout });
    assert.equal(text.code, 1, outputOf(text));
    const json = await runCli(["validate", checkout, "-o", "json"], { cwd: s.dir });
    assert.equal(json.code, 1, outputOf(json));
    const problems = JSON.parse(json.stdout) as JsonProblem[];
    const find = (file: string, pattern: RegExp, rule: string): JsonProblem => {
      const found = problems.find((p) => p.file === file && pattern.test(p.message));
      assert.ok(found, `no problem ${pattern} in ${file}: ${JSON.stringify(problems, null, 2)}`);
      assert.equal(found.rule, rule);
      assert.ok(text.stdout.includes(`${found.file}:${found.line}:${found.column}: `), `text output names ${found.file}:${found.line}`);
      return found;
    };
    const files = broken as Record<string, string>;
    const apps = files["ferry/apps.yaml"] ?? "";
    assert.equal(find("apps/web/broken.yaml", /never closed|flow/, "render").line, 4);
    assert.equal(find("apps/web/unknown.yaml", /unknown kind "Deployment"/, "schema").line, 2);
    assert.equal(find("apps/web/service.yaml", /unknown field "comand" \(did you mean "command"\?\)/, "schema").line, lineOf(files["apps/web/service.yaml"] ?? "", "comand"));
    assert.equal(find("ferry/apps.yaml", /unknown application "cache"/, "references").line, lineOf(apps, "- cache"));
    find("ferry/apps.yaml", /dependency cycle: a -> b -> a/, "references");
    const db = files["apps/db/files.yaml"] ?? "";
    assert.equal(find("apps/db/files.yaml", /contentFrom "seed.sql" does not exist/, "references").line, lineOf(db, "contentFrom: seed.sql"));
    assert.equal(find("apps/db/files.yaml", /escapes the allowed root/, "schema").line, lineOf(db, "../../etc/cron.d/x"));
    assert.equal(find("apps/a/a.yaml", /"sh" is not allowed/, "policy/no-shell").line, 6);
    // web-config is declared by db here and by web (in files.yaml, which this commit kept).
    const duplicate = find("apps/web/files.yaml", /File\/web-config is declared by applications "db" \(at apps\/db\/files\.yaml:\d+:\d+\) and "web"/, "duplicates");
    assert.ok(duplicate.line > 0);
    for (const p of problems) assert.ok(p.file && p.line > 0, `every problem names a file and line: ${JSON.stringify(p)}`);
    // The snippet under each problem shows the line with a caret.
    assert.match(text.stdout, /\n {4}\d+ \| {3}comand: node\n {4} +\| +\^/);

    const github = await runCli(["validate", checkout, "--format", "github"], { cwd: s.dir });
    assert.equal(github.code, 1);
    assert.match(github.stdout, /^::error file=apps\/web\/unknown\.yaml,line=2,col=7,title=schema::kind: unknown kind "Deployment"/m);
  });

  test("cannot run: no such directory, no Application documents (exit 2)", async (t) => {
    const s = await Scenario.create();
    t.after(() => s.cleanup());
    const missing = await s.ferry("validate", join(s.dir, "nope"));
    assert.equal(missing.code, 2, outputOf(missing));
    assert.match(missing.stderr, /is not a directory/);
    await s.commit("Only a readme", { "ferry/README.md": "later\n" });
    const empty = await s.ferry("validate", s.repo);
    assert.equal(empty.code, 2, outputOf(empty));
    assert.match(empty.stderr, /no Application documents found in ferry\//);
  });
});
