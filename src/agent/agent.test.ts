import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { findCondition } from "../core/conditions.js";
import type { Deployment, HistoryEntry, Page } from "../history/types.js";
import { TestRepository } from "../../test/support/test-repository.js";
import type { Agent } from "./agent.js";
import { applicationYaml, startTestAgent } from "../../test/support/agent-test-support.js";
import type { ApplicationList } from "./api-types.js";
import type { RollbackResult } from "./rollback.js";
import type { AgentInfo } from "./state-dir.js";

const APPS = applicationYaml("notes");
const file = (text: string) => `apiVersion: host.ferry.dev/v1
kind: File
metadata:
  name: note
spec:
  path: note.txt
  content: "${text}"
`;

const WEBHOOK_SECRET = "test-webhook-secret-0123456789";

/** A request to the generic webhook receiver, signed (or not) with the secret. */
function genericHook(body: unknown, secret = WEBHOOK_SECRET, seconds = Math.floor(Date.now() / 1000)): RequestInit {
  const text = JSON.stringify(body);
  const signature = createHmac("sha256", secret).update(`${seconds}.${text}`).digest("hex");
  return { method: "POST", body: text, headers: { "content-type": "application/json", "x-ferry-timestamp": String(seconds), "x-ferry-signature": `sha256=${signature}` } };
}

describe("agent and its control API", () => {
  let repo: TestRepository;
  let work: string;
  let agent: Agent;
  let info: AgentInfo;
  let stop: () => Promise<void>;
  const api = (path: string, init: RequestInit = {}, token = info.token) =>
    fetch(info.url + path, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) } });

  before(async () => {
    repo = await TestRepository.create();
    await repo.commit({ "ferry/apps.yaml": APPS, "apps/notes/note.yaml": file("one") });
    work = await mkdtemp(join(tmpdir(), "ferry-agent-"));
    ({ agent, info, stop } = await startTestAgent(repo, work, { webhookSecret: WEBHOOK_SECRET }));
  });

  after(() => stop());

  it("applies the configuration's applications and answers with their status", async () => {
    assert.equal(await readFile(join(work, "root", "note.txt"), "utf8"), "one");
    const res = await api("/api/v1/applications");
    assert.equal(res.status, 200);
    const list = (await res.json()) as ApplicationList;
    assert.deepEqual(list.config.applications, ["notes"]);
    assert.equal(findCondition(list.applications[0]?.conditions ?? [], "Ready")?.status, "True");
  });

  it("pages and filters the applications, and tells a token's scope", async () => {
    const page = (await (await api("/api/v1/applications?limit=1&health=Healthy&search=NOT")).json()) as ApplicationList;
    assert.deepEqual(page.applications.map((a) => a.name), ["notes"]);
    assert.equal(page.total, 1);
    assert.equal(page.continue, undefined);
    assert.equal(page.config.applications, undefined, "a page does not carry every application's name");
    assert.ok(page.config.revision, "but the configuration's status");
    assert.deepEqual(((await (await api("/api/v1/applications")).json()) as ApplicationList).config.applications, ["notes"], "an unpaged list does");
    assert.equal(((await (await api("/api/v1/applications?sync=OutOfSync")).json()) as ApplicationList).total, 0);
    const bad = await api("/api/v1/applications?health=Fine");
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /health: expected one of/);
    assert.deepEqual(await (await api("/api/v1/session")).json(), { scope: "admin" });
    assert.ok(info.readToken);
    assert.deepEqual(await (await api("/api/v1/session", {}, info.readToken)).json(), { scope: "read" });
    assert.equal((await fetch(info.url + "/api/v1/session")).status, 401);
  });

  it("refuses requests without the right token and changes nothing", async () => {
    assert.equal((await fetch(info.url + "/api/v1/applications")).status, 401);
    assert.equal((await api("/api/v1/applications", {}, "x".repeat(info.token.length))).status, 401);
    assert.equal((await api("/api/v1/applications/notes/sync", { method: "POST" }, "wrong")).status, 401);
    assert.equal((await fetch(info.url + "/healthz")).status, 200);
  });

  it("rejects oversized bodies and unknown routes and applications", async () => {
    assert.equal((await api("/api/v1/refresh", { method: "POST", body: "x".repeat(70 * 1024) })).status, 413);
    assert.equal((await api("/api/v1/nothing")).status, 404);
    assert.equal((await api("/api/v1/applications/ghost")).status, 404);
  });

  it("a sync streams progress and ends with the status", async () => {
    await repo.commit({ "apps/notes/note.yaml": file("two") });
    const res = await api("/api/v1/applications/notes/sync", { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
    const lines = (await res.text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string });
    assert.ok(lines.some((l) => l.type === "Progress"));
    assert.equal(lines.at(-1)?.type, "Result");
    assert.equal(await readFile(join(work, "root", "note.txt"), "utf8"), "two");
  });

  it("serves the history, refuses what it cannot do, and rolls back through Git", async () => {
    await agent.history.flush();
    const post = (path: string, body: unknown) => api(path, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
    const history = (await (await api("/api/v1/history?application=notes&type=SyncFinished")).json()) as Page<HistoryEntry>;
    assert.equal(history.items.length, 2, "two syncs: the first commit and the sync of the second");
    const bad = await api("/api/v1/history?limit=0");
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /limit: expected a positive whole number/);
    const running = (await (await api("/api/v1/deployments?application=notes&at=now")).json()) as Page<Deployment>;
    assert.equal(running.items.length, 1);

    const never = await post("/api/v1/applications/notes/rollback", { to: "deadbeef" });
    assert.equal(never.status, 422);
    assert.match(((await never.json()) as { error: string }).error, /revision deadbeef never ran for notes/);
    assert.equal((await post("/api/v1/applications/ghost/rollback", {})).status, 404);
    const head = await repo.head();

    const res = await post("/api/v1/applications/notes/rollback", { reason: "two is wrong", author: { name: "Ada", email: "ada@example.com" } });
    assert.equal(res.status, 200);
    const result = (await res.json()) as RollbackResult;
    assert.equal(result.from.revision, running.items[0]?.revision);
    assert.notEqual(await repo.head(), head);
    assert.equal((await repo.git("log", "-1", "--format=%an <%ae>")).trim(), "Ada <ada@example.com>");
    for (let i = 0; i < 100 && (await readFile(join(work, "root", "note.txt"), "utf8")) !== "one"; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await readFile(join(work, "root", "note.txt"), "utf8"), "one");
    const holds = (await (await api("/api/v1/holds")).json()) as { holds: { application: string }[] };
    assert.deepEqual(
      holds.holds.map((h) => h.application),
      ["notes"],
    );
    assert.deepEqual(await (await post("/api/v1/applications/notes/release", {})).json(), { released: true });
  });

  it("a signed push webhook applies the commit at once; forged and replayed ones change nothing", async () => {
    await repo.commit({ "apps/notes/note.yaml": file("pushed") });
    const forged = await fetch(info.url + "/hooks/generic", genericHook({ repository: repo.directory, ref: "main" }, "not-the-secret-at-all"));
    assert.equal(forged.status, 401);
    assert.equal((await fetch(info.url + "/hooks/bitbucket", genericHook({ repository: repo.directory }))).status, 404);
    assert.equal((await fetch(info.url + "/hooks/generic", { method: "POST", body: "x".repeat(3 * 1024 * 1024) })).status, 413);
    await new Promise((r) => setTimeout(r, 300));
    assert.notEqual(await readFile(join(work, "root", "note.txt"), "utf8"), "pushed", "nothing was refreshed by refused requests");

    const request = genericHook({ repository: repo.directory, ref: "main" });
    const res = await fetch(info.url + "/hooks/generic", request);
    assert.equal(res.status, 202);
    const { refreshed } = (await res.json()) as { refreshed: string[] };
    assert.equal(refreshed.length, 1);
    for (let i = 0; i < 100 && (await readFile(join(work, "root", "note.txt"), "utf8")) !== "pushed"; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await readFile(join(work, "root", "note.txt"), "utf8"), "pushed");
    assert.equal((await fetch(info.url + "/hooks/generic", request)).status, 409, "the same delivery again is a replay");
    const other = await fetch(info.url + "/hooks/generic", genericHook({ repository: "/somewhere/else", ref: "main" }));
    assert.deepEqual(await other.json(), { refreshed: [], applications: [] });
  });

  it("serves Prometheus metrics to token holders only", async () => {
    assert.equal((await fetch(info.url + "/metrics")).status, 401);
    const res = await api("/metrics");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    assert.match(text, /^ferry_syncs_total\{application="notes",outcome="Succeeded"\} [1-9]\d*$/m);
    assert.match(text, /^ferry_git_ls_remote_total\{repository=".*ferry-test-repo-.*",ref="main"\} [1-9]\d*$/m);
    assert.match(text, /^ferry_webhook_requests_total\{provider="generic",status="202"\} 2$/m);
    assert.match(text, /^ferry_webhook_requests_total\{provider="generic",status="401"\} 1$/m);
    assert.match(text, /^ferry_reconcile_stage_duration_seconds_count\{stage="render"\} [1-9]\d*$/m);
    assert.match(text, /^ferry_commit_to_applied_seconds_count [1-9]\d*$/m);
    assert.match(text, /^ferry_applications\{ready="true"\} 1$/m);
    assert.match(text, /^ferry_target_calls_total\{target="host",verb="apply",outcome="ok"\} [1-9]\d*$/m);
    assert.match(text, /^ferry_target_calls_total\{target="host",verb="read",outcome="ok"\} [1-9]\d*$/m);
  });

  it("a read token may read but not act", async () => {
    const readToken = info.readToken ?? "";
    assert.ok(readToken.length > 20 && readToken !== info.token);
    assert.equal((await api("/api/v1/applications", {}, readToken)).status, 200);
    assert.equal((await api("/metrics", {}, readToken)).status, 200);
    const refused = await api("/api/v1/applications/notes/sync", { method: "POST", body: "{}" }, readToken);
    assert.equal(refused.status, 403);
    assert.match(((await refused.json()) as { error: string }).error, /may only read/);
    assert.equal((await api("/api/v1/refresh", { method: "POST", body: "{}" }, readToken)).status, 403);
  });

  it("a broken configuration is rejected with file and line, and the last good one stays", async () => {
    await repo.commit({ "ferry/apps.yaml": APPS.replace("path: apps/notes", "path: apps/notes\n  sincPolicy: {}") });
    await agent.refresh();
    const list = (await (await api("/api/v1/applications")).json()) as ApplicationList;
    assert.match(list.config.problems[0]?.message ?? "", /unknown field "sincPolicy"/);
    assert.equal(list.config.problems[0]?.location?.file, "ferry/apps.yaml");
    assert.equal(list.config.problems[0]?.location?.line, 8);
    assert.deepEqual(list.config.applications, ["notes"]);
    assert.ok(list.config.revision !== list.config.lastAttemptedRevision);
    assert.deepEqual(
      agent.engine.applications().map((a) => a.name),
      ["notes"],
    );
  });

  it("answers 429 to a client that sends too many requests", async () => {
    const statuses = await Promise.all(Array.from({ length: 40 }, () => fetch(info.url + "/hooks/generic", { method: "POST", body: "{}" }).then((r) => r.status)));
    assert.ok(statuses.includes(401), "the first ones are checked (and refused: unsigned)");
    assert.ok(statuses.includes(429), `the rest are limited: ${statuses.join(",")}`);
    assert.equal((await fetch(info.url + "/healthz")).status, 200, "health is never limited");
  });
});
