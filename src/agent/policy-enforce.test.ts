import assert from "node:assert/strict";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { TestRepository } from "../../test/support/test-repository.js";
import type { Agent } from "./agent.js";
import { applicationYaml as app, startTestAgent } from "../../test/support/agent-test-support.js";

/** A host File carrying the label team=`team` when given. */
const labelledFile = (text: string, team?: string): string => `apiVersion: host.ferry.dev/v1
kind: File
metadata:
  name: motd
${team ? `  labels:\n    team: ${team}\n` : ""}spec:
  path: motd.txt
  content: "${text}"
`;

const policy = (severity: "error" | "warning"): string => `apiVersion: ferry.dev/v1
kind: Policy
metadata:
  name: ownership
spec:
  rules:
    - name: team-label
      severity: ${severity}
      requireLabels: [team]
`;

describe("the agent enforces the repository's Policy rules", () => {
  let repo: TestRepository;
  let work: string;
  let agent: Agent;
  let stop: () => Promise<void>;
  const motd = (): Promise<string> => readFile(join(work, "root", "motd.txt"), "utf8");
  const sync = async (): Promise<void> => {
    await agent.refresh();
    await agent.engine.whenIdle();
  };

  before(async () => {
    repo = await TestRepository.create();
    await repo.commit({ "ferry/apps.yaml": app("web"), "ferry/policy.yaml": policy("error"), "apps/web/motd.yaml": labelledFile("one", "ops") });
    work = await mkdtemp(join(tmpdir(), "ferry-policy-"));
    ({ agent, stop } = await startTestAgent(repo, work));
  });

  after(() => stop());

  it("a revision that follows the rules is applied", async () => {
    assert.equal(await motd(), "one");
    assert.equal(agent.engine.status("web")?.sync.status, "Synced");
  });

  it("a revision that breaks an error rule stalls, naming file, line and rule; the last good state stays", async () => {
    const revision = await repo.commit({ "apps/web/motd.yaml": labelledFile("two") });
    await sync();
    const status = agent.engine.status("web");
    const stalledCondition = status?.conditions.find((c) => c.type === "Stalled");
    assert.equal(stalledCondition?.status, "True");
    assert.equal(stalledCondition?.reason, "PolicyViolation");
    assert.match(stalledCondition?.message ?? "", /^policy check failed: apps\/web\/motd\.yaml:3:1: metadata\.labels\.team: label "team" is required \(policy\/team-label\)/);
    assert.equal(status?.lastAttemptedRevision, revision);
    assert.equal(status?.sync.status, "OutOfSync");
    assert.equal(await motd(), "one", "nothing of the refused revision was applied");
  });

  it("relaxing the rule to a warning applies the same revision, and the status keeps the warning", async () => {
    await repo.commit({ "ferry/policy.yaml": policy("warning") });
    await sync();
    const status = agent.engine.status("web");
    assert.equal(status?.conditions.find((c) => c.type === "Stalled")?.status ?? "False", "False");
    assert.equal(await motd(), "two");
    assert.deepEqual(
      status?.problems.map((p) => [p.severity, p.message]),
      [["warning", 'label "team" is required (policy/team-label)']],
    );
  });

  it("a fixed revision clears the warning", async () => {
    await repo.commit({ "apps/web/motd.yaml": labelledFile("three", "ops") });
    await sync();
    assert.equal(await motd(), "three");
    assert.deepEqual(agent.engine.status("web")?.problems, []);
  });
});

describe("Policy rules that name Application hold for the configuration", () => {
  it("a configuration breaking one is refused, naming file, line and rule; the applications keep running", async () => {
    const repo = await TestRepository.create();
    const rule = `apiVersion: ferry.dev/v1
kind: Policy
metadata:
  name: config-rules
spec:
  rules:
    - name: apps-name-an-environment
      match: {kind: Application}
      forbid: {pointer: /spec/source/path, pattern: "^apps/tmp"}
`;
    await repo.commit({ "ferry/apps.yaml": app("web"), "ferry/policy.yaml": rule, "apps/web/motd.yaml": labelledFile("one"), "apps/tmp/motd.yaml": labelledFile("tmp") });
    const work = await mkdtemp(join(tmpdir(), "ferry-policy-config-"));
    const { agent, stop } = await startTestAgent(repo, work);
    try {
      assert.deepEqual(agent.config().problems, []);
      const revision = await repo.commit({ "ferry/apps.yaml": `${app("web")}---\n${app("tmp")}` });
      await agent.refresh();
      await agent.engine.whenIdle();
      const config = agent.config();
      assert.equal(config.lastAttemptedRevision, revision);
      assert.notEqual(config.revision, revision, "the refused configuration is not loaded");
      assert.match(config.problems.map((p) => `${p.location?.file}:${p.location?.line}: ${p.message}`).join("\n"), /^ferry\/apps\.yaml:15: "apps\/tmp" is not allowed \(matches \/\^apps\\\/tmp\/\) \(policy\/apps-name-an-environment\)$/);
      assert.deepEqual(agent.engine.applications().map((a) => a.name), ["web"]);
      assert.equal(await readFile(join(work, "root", "motd.txt"), "utf8"), "one");
    } finally {
      await stop();
    }
  });
});
