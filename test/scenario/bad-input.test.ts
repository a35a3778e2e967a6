// Scenarios of bad input: broken YAML, a rejected configuration, paths that
// escape the root, a command that does not exist. Each must name the file and
// line, and lose nothing that runs.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, symlink } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { ConfigStatus } from "../../src/agent/agent.js";
import type { HistoryEntry, Page } from "../../src/history/types.js";
import { applicationsYaml, applicationYaml, filesYaml, lineOf, parseAnswer, serviceApp } from "./fixtures.js";
import { condition, freePort, httpGet, isReady, outputOf, runCli, Scenario } from "./harness.js";

describe("bad input while the agent runs", { concurrency: true }, () => {
  test("broken YAML stalls with file and line, the old version keeps serving, a revert recovers", async (t) => {
    const s = await Scenario.create();
    t.after(() => s.cleanup());
    const port = await freePort();
    const good = await s.commit("Add web", { "ferry/applications.yaml": applicationsYaml({ name: "web" }), ...serviceApp({ name: "web", port, greeting: "Good" }) });
    s.startAgent();
    await s.waitForReady("web", good);
    const serving = parseAnswer(await s.waitForHttp(port, (b) => b.startsWith("greeting=Good "), "the good version"));

    const service = s.read("apps/web/service.yaml");
    const brokenLine = service.split("\n").length;
    const broken = await s.commit("Broken", { "apps/web/service.yaml": `${service}spec: [\n` });
    const stalled = await s.waitForStatus("web", "Stalled on the broken commit", (st) => st.lastAttemptedRevision === broken && condition(st, "Stalled")?.status === "True");
    assert.equal(condition(stalled, "Ready")?.status, "False");
    assert.equal(condition(stalled, "Stalled")?.reason, "RenderFailed");
    assert.equal(stalled.sync.revision, good, "the synced revision stays the last good one");
    assert.ok(stalled.problems.length > 0 && stalled.problems.every((p) => p.location?.file === "apps/web/service.yaml"), JSON.stringify(stalled.problems));
    assert.ok(stalled.problems.some((p) => p.location?.line === brokenLine), `a problem on line ${brokenLine}: ${JSON.stringify(stalled.problems)}`);

    const text = await s.ferry("status", "web");
    assert.equal(text.code, 1, outputOf(text));
    assert.match(text.stdout, new RegExp(`apps/web/service\\.yaml:${brokenLine}:\\d+: `));
    assert.match(text.stdout, /Stalled=True RenderFailed/);

    const still = parseAnswer((await httpGet(port)) ?? "no answer\n");
    assert.deepEqual(still, serving, "the last good version keeps serving, untouched");

    // The refusal is in the history, with its reason and file:line, once the status has moved on too.
    const refusals = async (): Promise<HistoryEntry[]> => {
      const listed = await s.ferry("history", "web", "--outcome", "Failed", "-o", "json");
      assert.equal(listed.code, 0, outputOf(listed));
      return (JSON.parse(listed.stdout) as Page<HistoryEntry>).items.filter((e) => e.type === "RevisionRefused");
    };
    const [refused] = await s.waitFor("the refusal in the history", async () => ((await refusals()).length > 0 ? await refusals() : undefined));
    assert.equal(refused?.revision, broken);
    assert.equal(refused.reason, "RenderFailed");
    const kept = (refused.details?.problems ?? []) as string[];
    assert.ok(kept.some((p) => p.startsWith(`apps/web/service.yaml:${brokenLine}:`)), JSON.stringify(refused.details));
    const listed = await s.ferry("history", "--outcome", "Failed");
    assert.match(listed.stdout, /RevisionRefused/);
    assert.match(listed.stdout, new RegExp(`apps/web/service\\.yaml:${brokenLine}:`));

    const diff = await s.ferry("diff");
    assert.equal(diff.code, 2, `diff cannot tell what would change: ${outputOf(diff)}`);
    const readyMessage = condition(stalled, "Ready")?.message ?? "";
    assert.ok(diff.stdout.includes(`web: cannot diff: ${readyMessage}`), `diff shows the same error as status:\n${diff.stdout}\nvs ${readyMessage}`);
    assert.match(diff.stdout, new RegExp(`apps/web/service\\.yaml:${brokenLine}:`));

    await s.git("revert", "--no-edit", "HEAD");
    const reverted = await s.head();
    const recovered = await s.waitForReady("web", reverted);
    assert.equal(condition(recovered, "Stalled"), undefined);
    assert.deepEqual(recovered.problems, []);

    const later = await s.commit("Better", serviceApp({ name: "web", port, greeting: "Better" }));
    await s.waitForHttp(port, (b) => b.startsWith("greeting=Better "), "the commit after the revert");
    await s.waitForReady("web", later);
    assert.equal((await refusals()).length, 1, "one entry per refused revision, not one per retry");
  });

  test("a rejected configuration names file and line, and the last good one keeps running", async (t) => {
    const s = await Scenario.create();
    t.after(() => s.cleanup());
    const port = await freePort();
    const goodConfig = applicationsYaml({ name: "web" });
    const good = await s.commit("Add web", { "ferry/applications.yaml": goodConfig, ...serviceApp({ name: "web", port, greeting: "Running" }) });
    s.startAgent();
    await s.waitForReady("web", good);
    const serving = parseAnswer(await s.waitForHttp(port, (b) => b.startsWith("greeting=Running "), "the service"));

    const typo = goodConfig.replace("spec:\n", "spec:\n  syncPolcy:\n    prune: false\n");
    const unknownKind = `${goodConfig}---\n${applicationYaml({ name: "other" }).replace("kind: Application", "kind: Aplication")}`;
    const cycle = applicationsYaml({ name: "web", dependsOn: ["other"] }, { name: "other", dependsOn: ["web"] });
    const brokenRule = `${goodConfig}---\napiVersion: ferry.dev/v1\nkind: HealthRule\nmetadata:\n  name: widgets\nspec:\n  match: [{group: example.com, kind: "*"}]\n  degraded: "false"\n  progressing: "false"\n  healthy: "status.phase =="\n`;
    const cases = [
      { what: "a typo field", config: typo, line: lineOf(typo, "syncPolcy"), message: /unknown field "syncPolcy" \(did you mean "syncPolicy"\?\)/ },
      { what: "an unknown kind", config: unknownKind, line: lineOf(unknownKind, "kind: Aplication") - 1, message: /unknown kind "Aplication"/ },
      { what: "a dependsOn cycle", config: cycle, line: lineOf(cycle, "- other"), message: /dependency cycle: other -> web -> other/ },
      { what: "a health rule that does not compile", config: brokenRule, line: lineOf(brokenRule, "healthy:"), message: /health rule "widgets": spec\.healthy is not valid CEL/ },
    ];
    for (const c of cases) {
      const revision = await s.commit(`Config with ${c.what}`, { "ferry/applications.yaml": c.config });
      const where = new RegExp(`ferry/applications\\.yaml:${c.line}:\\d+: .*`);
      const status = await s.waitFor(
        `the agent to reject the configuration with ${c.what}`,
        async () => {
          const result = await s.ferry("status");
          return result.stderr.includes(`configuration at ${revision.slice(0, 8)} was rejected; still using ${good.slice(0, 8)}`) ? result : undefined;
        },
      );
      assert.match(status.stderr, where, `${c.what}: the problem names file and line`);
      assert.match(status.stderr, c.message);
      assert.equal(status.code, 0, "web itself stays Ready");
      assert.match(status.stdout, /^web +True +Synced/m);
      const json = JSON.parse((await s.ferry("status", "-o", "json")).stdout) as { config?: ConfigStatus };
      assert.equal(json.config?.revision, good, "status -o json names the configuration in use");
      assert.equal(json.config?.lastAttemptedRevision, revision);
      assert.ok(
        json.config?.problems.some((p) => p.location?.file === "ferry/applications.yaml" && p.location.line === c.line && c.message.test(p.message)),
        `status -o json carries the problem: ${JSON.stringify(json.config?.problems)}`,
      );
      await s.waitFor(`the agent to log the rejection of ${c.what}`, () => s.agent.output.includes(`configuration at ${revision.slice(0, 8)} rejected, keeping the last good one`));
      assert.match(s.agent.output, where);
      assert.deepEqual(parseAnswer((await httpGet(port)) ?? "no answer\n"), serving, `${c.what}: the service keeps running untouched`);
    }

    // A good configuration again: it is loaded, and what it adds is applied.
    const fixed = await s.commit("Fix the configuration and add notes", {
      "ferry/applications.yaml": applicationsYaml({ name: "web" }, { name: "notes" }),
      "apps/notes/files.yaml": filesYaml([{ name: "notes", path: "notes.txt", content: "written after the fix" }]),
    });
    await s.waitForReady("notes", fixed);
    assert.ok(existsSync(join(s.root, "notes.txt")));
    const status = await s.ferry("status", "-o", "json");
    const json = JSON.parse(status.stdout) as { config?: ConfigStatus };
    assert.equal(json.config?.revision, fixed);
    assert.deepEqual(json.config?.problems, [], "no rejected configuration is reported any more");
    assert.deepEqual(json.config?.applications, ["notes", "web"]);
    assert.ok(isReady(await s.status("web")));
  });
});

describe("ferry agent --once", { concurrency: true }, () => {
  test("exits 0 when every application becomes Ready", async (t) => {
    const s = await Scenario.create();
    t.after(() => s.cleanup());
    const port = await freePort();
    const revision = await s.commit("Add web", { "ferry/applications.yaml": applicationsYaml({ name: "web" }), ...serviceApp({ name: "web", port, greeting: "Once" }) });
    const once = await runCli(s.agentArgs({ once: true }), { cwd: s.dir });
    assert.equal(once.code, 0, outputOf(once));
    assert.match(once.stdout, new RegExp(`^web +True +Synced +${revision.slice(0, 8)} +Healthy`, "m"));
    // The service outlives the one-shot agent, for the next agent to adopt.
    assert.match((await httpGet(port)) ?? "", /^greeting=Once /);
    const status = await s.status("web");
    assert.ok(isReady(status), JSON.stringify(status.conditions));
    // Without an agent, diff works from the saved settings and finds nothing to do.
    const diff = await s.ferry("diff", "web");
    assert.equal(diff.code, 0, outputOf(diff));
    assert.match(diff.stdout, /^web: in sync$/m);
  });

  test("exits 1 when a service's command does not exist, naming file, line and field", async (t) => {
    const s = await Scenario.create();
    t.after(() => s.cleanup());
    const files = serviceApp({ name: "web", port: await freePort(), greeting: "Never", command: "ferry-no-such-command" });
    await s.commit("Add web", { "ferry/applications.yaml": applicationsYaml({ name: "web" }), ...files });
    const once = await runCli(s.agentArgs({ once: true }), { cwd: s.dir });
    assert.equal(once.code, 1, outputOf(once));
    const line = lineOf(files["apps/web/service.yaml"] ?? "", "command:");
    assert.match(outputOf(once), new RegExp(`apps/web/service\\.yaml:${line}:\\d+: spec\\.command: command "ferry-no-such-command" was not found`));
    const status = await s.status("web");
    assert.equal(condition(status, "Ready")?.reason, "CommandNotFound");
    assert.equal(condition(status, "Stalled")?.status, "True");
    assert.equal(status.problems[0]?.field, "/spec/command");
  });

  test("exits 1 on a configuration with a typo, naming file and line", async (t) => {
    const s = await Scenario.create();
    t.after(() => s.cleanup());
    const config = applicationsYaml({ name: "web" }).replace("  source:", "  sorce:");
    await s.commit("Add web", { "ferry/applications.yaml": config });
    const once = await runCli(s.agentArgs({ once: true }), { cwd: s.dir });
    assert.equal(once.code, 1, outputOf(once));
    assert.match(outputOf(once), new RegExp(`ferry/applications\\.yaml:${lineOf(config, "sorce:")}:\\d+: spec\\.sorce: unknown field "sorce" \\(did you mean "source"\\?\\)`));
  });

  test("a file path escaping the root is refused with its field, and nothing is written", async (t) => {
    const s = await Scenario.create();
    t.after(() => s.cleanup());
    const outsideAbsolute = join(s.dir, "outside-absolute.txt");
    const files = filesYaml([
      { name: "inside", path: "inside.txt", content: "fine" },
      { name: "escape", path: "../outside.txt", content: "must not be written" },
      { name: "absolute", path: outsideAbsolute, content: "must not be written" },
    ]);
    await s.commit("Add files", { "ferry/applications.yaml": applicationsYaml({ name: "files" }), "apps/files/files.yaml": files });
    const once = await runCli(s.agentArgs({ once: true }), { cwd: s.dir });
    assert.equal(once.code, 1, outputOf(once));
    assert.match(outputOf(once), /validation failed \(2 problems, first shown\): apps\/files\/files\.yaml:\d+:\d+: spec\.path: path ".*" escapes the allowed root/);
    const status = await s.status("files");
    assert.equal(condition(status, "Ready")?.reason, "ValidationFailed");
    assert.equal(condition(status, "Stalled")?.status, "True");
    assert.deepEqual(
      status.problems.map((p) => [p.location?.file, p.location?.line, p.field]).sort(),
      [
        ["apps/files/files.yaml", lineOf(files, "../outside.txt"), "/spec/path"],
        ["apps/files/files.yaml", lineOf(files, outsideAbsolute), "/spec/path"],
      ],
    );
    const text = await s.ferry("status", "files");
    assert.match(text.stdout, new RegExp(`apps/files/files\\.yaml:${lineOf(files, "../outside.txt")}:\\d+: spec\\.path: path "\\.\\./outside\\.txt" escapes the allowed root`));
    assert.equal(existsSync(join(s.dir, "outside.txt")), false);
    assert.equal(existsSync(outsideAbsolute), false);
    assert.equal(existsSync(join(s.root, "inside.txt")), false, "an invalid revision applies nothing at all");

    // A symlink under the root that leads out of it is refused when the file is applied.
    await mkdir(join(s.dir, "elsewhere"));
    await mkdir(s.root, { recursive: true });
    await symlink(join(s.dir, "elsewhere"), join(s.root, "link"));
    const viaLink = filesYaml([{ name: "via-link", path: "link/evil.txt", content: "must not be written" }]);
    await s.commit("Write through a symlink", { "apps/files/files.yaml": viaLink });
    const again = await runCli(s.agentArgs({ once: true }), { cwd: s.dir });
    assert.equal(again.code, 1, outputOf(again));
    assert.match(outputOf(again), new RegExp(`apps/files/files\\.yaml:${lineOf(viaLink, "link/evil.txt")}:\\d+: spec\\.path: path .* resolves through a symlink to a place outside the allowed root`));
    assert.equal(existsSync(join(s.dir, "elsewhere", "evil.txt")), false);
  });
});
