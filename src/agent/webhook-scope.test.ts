import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { EngineEvent } from "../engine/events.js";
import { TestRepository } from "../../test/support/test-repository.js";
import type { Agent } from "./agent.js";
import { applicationYaml as app, hostFileYaml as file, startTestAgent } from "../../test/support/agent-test-support.js";
import type { WebhookResponse } from "./api-types.js";
import type { AgentInfo } from "./state-dir.js";

const SECRET = "test-webhook-secret-0123456789";

describe("a push webhook refreshes only what it touches", () => {
  let repo: TestRepository;
  let work: string;
  let agent: Agent;
  let info: AgentInfo;
  let stop: () => Promise<void>;
  const events: EngineEvent[] = [];

  /** A signed GitHub push of the repository's main branch, listing `files` as modified (or no lists at all). */
  const githubPush = async (files: readonly string[] | undefined, delivery: string, after?: string): Promise<WebhookResponse> => {
    const commits = files ? [{ id: "c1", added: [], modified: files, removed: [] }] : [];
    const body = JSON.stringify({ ref: "refs/heads/main", repository: { clone_url: `file://${repo.directory}` }, commits, ...(after ? { after } : {}) });
    const signature = createHmac("sha256", SECRET).update(body).digest("hex");
    const res = await fetch(`${info.url}/hooks/github`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", "x-github-event": "push", "x-github-delivery": delivery, "x-hub-signature-256": `sha256=${signature}` },
    });
    assert.equal(res.status, 202);
    return (await res.json()) as WebhookResponse;
  };
  const ranSince = (from: number, name: string, revision: string): boolean =>
    events.slice(from).some((e) => e.type === "SyncFinished" && e.application === name && e.revision === revision);
  const touchedSince = (from: number, name: string): boolean => events.slice(from).some((e) => "application" in e && e.application === name);

  before(async () => {
    repo = await TestRepository.create();
    await repo.commit({ "ferry/apps.yaml": `${app("a")}---\n${app("b")}`, "apps/a/a.yaml": file("a", "a1"), "apps/b/b.yaml": file("b", "b1") });
    work = await mkdtemp(join(tmpdir(), "ferry-push-scope-"));
    ({ agent, info, stop } = await startTestAgent(repo, work, { webhookSecret: SECRET }, (a) => a.engine.subscribe((e) => events.push(e))));
  });

  after(() => stop());

  it("a push touching apps/a runs a, and b not at all", async () => {
    const revision = await repo.commit({ "apps/a/a.yaml": file("a", "a2"), "apps/b/b.yaml": file("b", "b2") });
    const from = events.length;
    const answer = await githubPush(["apps/a/a.yaml"], "d-1");
    assert.deepEqual(answer.applications, ["a"]);
    await agent.engine.whenIdle();
    assert.ok(ranSince(from, "a", revision), "a synced the pushed revision");
    assert.equal(touchedSince(from, "b"), false, "b did not run");
    assert.equal(await readFile(join(work, "root", "a.txt"), "utf8"), "a2");
    assert.equal(await readFile(join(work, "root", "b.txt"), "utf8"), "b1");
    assert.notEqual(agent.engine.status("b")?.lastAttemptedRevision, revision);
  });

  it("a push without file lists runs every application of the repository", async () => {
    const revision = await repo.commit({ "apps/b/b.yaml": file("b", "b3") });
    const from = events.length;
    const answer = await githubPush(undefined, "d-2");
    assert.deepEqual(answer.applications, ["a", "b"]);
    await agent.engine.whenIdle();
    assert.ok(ranSince(from, "b", revision), "b synced the pushed revision");
    assert.equal(await readFile(join(work, "root", "b.txt"), "utf8"), "b3");
  });

  it("a push touching the configuration's directory reloads it", async () => {
    await repo.commit({ "ferry/apps.yaml": `${app("a")}---\n${app("b")}---\n${app("c")}`, "apps/c/c.yaml": file("c", "c1") });
    const answer = await githubPush(["ferry/apps.yaml", "apps/c/c.yaml"], "d-3");
    assert.deepEqual(answer.applications, ["c"], "c is new; a and b are untouched");
    await agent.engine.whenIdle();
    assert.deepEqual(agent.config().applications, ["a", "b", "c"]);
    assert.equal(await readFile(join(work, "root", "c.txt"), "utf8"), "c1");
  });

  it("a push is applied at the commit it names (after), though the branch moved on since; a late one never goes back", async () => {
    const pushed = await repo.commit({ "apps/a/a.yaml": file("a", "a-pushed") });
    const later = await repo.commit({ "apps/a/a.yaml": file("a", "a-later") });
    const from = events.length;
    await githubPush(["apps/a/a.yaml"], "d-4", pushed);
    await agent.engine.whenIdle();
    assert.ok(ranSince(from, "a", pushed), "a synced the commit the push named");
    assert.equal(await readFile(join(work, "root", "a.txt"), "utf8"), "a-pushed");
    await githubPush(["apps/a/a.yaml"], "d-5", later);
    await agent.engine.whenIdle();
    assert.equal(await readFile(join(work, "root", "a.txt"), "utf8"), "a-later");
    const lateFrom = events.length;
    // Another body than the first delivery's (the same body again would be a replay).
    await githubPush(["apps/a/a.yaml", "apps/a/notes.md"], "d-6", pushed);
    await agent.engine.whenIdle();
    assert.equal(ranSince(lateFrom, "a", pushed), false, "a late webhook of an older commit is not applied");
    assert.equal(await readFile(join(work, "root", "a.txt"), "utf8"), "a-later");
  });
});
