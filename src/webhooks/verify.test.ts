import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, test } from "node:test";
import { ReplayGuard } from "./replay-guard.js";
import { repositoryIdentity, verifyWebhook } from "./verify.js";

const SECRET = "a-webhook-secret-of-some-length";
const now = new Date("2026-11-23T12:00:00Z");
const hmac = (text: string | Buffer, secret = SECRET): string => createHmac("sha256", secret).update(text).digest("hex");

const githubPush = Buffer.from(
  JSON.stringify({
    ref: "refs/heads/main",
    repository: { clone_url: "https://github.com/Acme/Deploy.git", ssh_url: "git@github.com:Acme/Deploy.git", html_url: "https://github.com/Acme/Deploy" },
    commits: [
      { added: ["apps/web/new.yaml"], modified: ["apps/web/service.yaml"], removed: [] },
      { added: [], modified: ["ferry/applications.yaml"], removed: ["apps/old/x.yaml"] },
    ],
  }),
);

describe("webhook verification", () => {
  test("a signed GitHub push names the repository, branch and touched paths", () => {
    const verdict = verifyWebhook(
      "github",
      { "x-hub-signature-256": `sha256=${hmac(githubPush)}`, "x-github-event": "push", "x-github-delivery": "d-1" },
      githubPush,
      SECRET,
      now,
    );
    assert.deepEqual(verdict, {
      kind: "push",
      push: {
        repositories: ["github.com/acme/deploy"],
        ref: "main",
        paths: ["apps/old/x.yaml", "apps/web/new.yaml", "apps/web/service.yaml", "ferry/applications.yaml"],
      },
      delivery: `X-Hub-Signature-256:${hmac(githubPush)}`,
    });
  });

  test("GitHub and Gitea deliveries are told apart by what the signature covers, not by the unsigned delivery id", () => {
    const other = Buffer.from(githubPush.toString().replace("apps/web/new.yaml", "apps/web/newer.yaml"));
    const github = (body: Buffer, id: string) => verifyWebhook("github", { "x-hub-signature-256": `sha256=${hmac(body).toUpperCase()}`, "x-github-event": "push", "x-github-delivery": id }, body, SECRET, now);
    const gitea = (body: Buffer, id: string) => verifyWebhook("gitea", { "x-gitea-signature": hmac(body), "x-gitea-event": "push", "x-gitea-delivery": id }, body, SECRET, now);
    for (const verify of [github, gitea]) {
      const guard = new ReplayGuard();
      const first = verify(githubPush, "d-1");
      assert.ok(first.kind === "push" && first.delivery);
      assert.equal(guard.firstTime(first.delivery), true);
      const replayed = verify(githubPush, "d-2");
      assert.ok(replayed.kind === "push" && replayed.delivery);
      assert.equal(guard.firstTime(replayed.delivery), false, "the same signed body under a fresh delivery id is a replay");
      const next = verify(other, "d-1");
      assert.ok(next.kind === "push" && next.delivery);
      assert.equal(guard.firstTime(next.delivery), true, "another push is new even when it reuses a delivery id");
    }
  });

  test("a push whose payload may have cut its lists short names no paths, so everything is refreshed", () => {
    const push = (payload: Record<string, unknown>, provider: "github" | "gitlab" | "gitea" = "github") => {
      const body = Buffer.from(JSON.stringify({ ref: "refs/heads/main", repository: { clone_url: "https://h/o/r.git" }, project: { git_http_url: "https://h/o/r.git" }, ...payload }));
      const headers =
        provider === "gitlab"
          ? { "x-gitlab-token": SECRET, "x-gitlab-event": "Push Hook" }
          : provider === "gitea"
            ? { "x-gitea-signature": hmac(body), "x-gitea-event": "push" }
            : { "x-hub-signature-256": `sha256=${hmac(body)}`, "x-github-event": "push" };
      const verdict = verifyWebhook(provider, headers, body, SECRET, now);
      assert.equal(verdict.kind, "push");
      return verdict.kind === "push" ? verdict.push.paths : undefined;
    };
    const commit = (file: string) => ({ added: [], modified: [file], removed: [] });
    assert.deepEqual(push({ commits: [commit("apps/a/x.yaml")] }), ["apps/a/x.yaml"]);
    assert.deepEqual(push({ commits: [commit("apps/a/x.yaml")] }, "gitea"), ["apps/a/x.yaml"]);
    assert.equal(push({ commits: Array.from({ length: 20 }, (_, i) => commit(`apps/a/${i}`)) }), undefined, "20 commits: GitHub's limit, maybe more");
    assert.equal(push({ commits: [{ added: Array.from({ length: 2048 }, (_, i) => `apps/a/${i}`), modified: [], removed: [] }] }), undefined, "2048 files: GitHub's limit");
    assert.equal(push({ commits: [commit("apps/a/x.yaml")], total_commits_count: 30 }, "gitlab"), undefined, "GitLab says more commits were pushed than listed");
    assert.deepEqual(push({ commits: [commit("apps/a/x.yaml")], total_commits_count: 1 }, "gitlab"), ["apps/a/x.yaml"]);
    assert.equal(push({ commits: [commit("apps/a/x.yaml")], total_commits: 25 }, "gitea"), undefined, "Gitea says more commits were pushed than listed");
    assert.equal(push({ commits: [{ modified: ["apps/a/x.yaml"] }] }), undefined, "a commit without its file lists");
    assert.equal(push({ commits: [] }), undefined, "a branch created or force-pushed lists no commits");
  });

  test("a forged, unsigned or malformed GitHub request is rejected; a ping or another event is not a push", () => {
    const forged = verifyWebhook("github", { "x-hub-signature-256": `sha256=${hmac(githubPush, "wrong")}`, "x-github-event": "push" }, githubPush, SECRET, now);
    assert.deepEqual(forged, { kind: "rejected", status: 401, reason: "signature does not match" });
    const tampered = Buffer.from(githubPush.toString().replace("main", "prod"));
    assert.equal(verifyWebhook("github", { "x-hub-signature-256": `sha256=${hmac(githubPush)}`, "x-github-event": "push" }, tampered, SECRET, now).kind, "rejected");
    assert.deepEqual(verifyWebhook("github", { "x-github-event": "push" }, githubPush, SECRET, now), { kind: "rejected", status: 401, reason: "missing X-Hub-Signature-256 header" });
    assert.equal(verifyWebhook("github", { "x-hub-signature-256": hmac(githubPush), "x-github-event": "push" }, githubPush, SECRET, now).kind, "rejected");
    const junk = Buffer.from("{not json");
    assert.deepEqual(verifyWebhook("github", { "x-hub-signature-256": `sha256=${hmac(junk)}`, "x-github-event": "push" }, junk, SECRET, now), {
      kind: "rejected",
      status: 400,
      reason: "body is not a JSON object",
    });
    const ping = verifyWebhook("github", { "x-hub-signature-256": `sha256=${hmac(junk)}`, "x-github-event": "ping" }, junk, SECRET, now);
    assert.equal(ping.kind === "ignored" && ping.status, 200);
    const issue = verifyWebhook("github", { "x-hub-signature-256": `sha256=${hmac(junk)}`, "x-github-event": "issues" }, junk, SECRET, now);
    assert.equal(issue.kind === "ignored" && issue.status, 202);
  });

  test("Gitea and Forgejo sign with a bare hex HMAC", () => {
    for (const prefix of ["x-gitea", "x-forgejo"]) {
      const verdict = verifyWebhook("gitea", { [`${prefix}-signature`]: hmac(githubPush), [`${prefix}-event`]: "push", [`${prefix}-delivery`]: "g-1" }, githubPush, SECRET, now);
      assert.equal(verdict.kind, "push", prefix);
    }
    assert.equal(verifyWebhook("gitea", { "x-gitea-signature": hmac(githubPush, "nope"), "x-gitea-event": "push" }, githubPush, SECRET, now).kind, "rejected");
  });

  test("GitLab sends its token, compared in constant time", () => {
    const body = Buffer.from(
      JSON.stringify({ ref: "refs/heads/main", project: { git_http_url: "https://gitlab.example.com/team/deploy.git", git_ssh_url: "git@gitlab.example.com:team/deploy.git" }, commits: [] }),
    );
    const verdict = verifyWebhook("gitlab", { "x-gitlab-token": SECRET, "x-gitlab-event": "Push Hook", "x-gitlab-event-uuid": "u-1" }, body, SECRET, now);
    assert.deepEqual(verdict, { kind: "push", push: { repositories: ["gitlab.example.com/team/deploy"], ref: "main" }, delivery: "u-1" });
    assert.equal(verifyWebhook("gitlab", { "x-gitlab-token": "guess", "x-gitlab-event": "Push Hook" }, body, SECRET, now).kind, "rejected");
    assert.equal(verifyWebhook("gitlab", { "x-gitlab-event": "Push Hook" }, body, SECRET, now).kind, "rejected");
  });

  test("the generic receiver signs the timestamp too, so an old request is refused", () => {
    const body = Buffer.from(JSON.stringify({ repository: "/srv/git/deploy.git", ref: "main", paths: ["apps/web/a.yaml"] }));
    const ts = String(Math.floor(now.getTime() / 1000));
    const signature = `sha256=${hmac(`${ts}.${body.toString()}`)}`;
    assert.deepEqual(verifyWebhook("generic", { "x-ferry-signature": signature, "x-ferry-timestamp": ts }, body, SECRET, now), {
      kind: "push",
      push: { repositories: ["/srv/git/deploy"], ref: "main", paths: ["apps/web/a.yaml"] },
      delivery: signature,
    });
    const old = String(Math.floor(now.getTime() / 1000) - 3600);
    const oldSignature = `sha256=${hmac(`${old}.${body.toString()}`)}`;
    assert.match(JSON.stringify(verifyWebhook("generic", { "x-ferry-signature": oldSignature, "x-ferry-timestamp": old }, body, SECRET, now)), /too far from now/);
    assert.match(JSON.stringify(verifyWebhook("generic", { "x-ferry-signature": signature, "x-ferry-timestamp": old }, body, SECRET, now)), /does not match/);
    const noRepo = Buffer.from("{}");
    const s2 = `sha256=${hmac(`${ts}.{}`)}`;
    assert.equal(verifyWebhook("generic", { "x-ferry-signature": s2, "x-ferry-timestamp": ts }, noRepo, SECRET, now).kind, "rejected");
  });

  test("a GitLab system hook push is a push, as Argo CD reads it; its other events are ignored", () => {
    const after = "3f2a1b4c5d6e7f8091a2b3c4d5e6f708192a3b4c";
    const body = Buffer.from(
      JSON.stringify({ event_name: "push", ref: "refs/heads/main", after, project: { git_http_url: "https://gitlab.example.com/team/deploy.git" }, commits: [{ added: [], modified: ["apps/web/a.yaml"], removed: [] }], total_commits_count: 1 }),
    );
    const verdict = verifyWebhook("gitlab", { "x-gitlab-token": SECRET, "x-gitlab-event": "System Hook", "x-gitlab-event-uuid": "s-1" }, body, SECRET, now);
    assert.deepEqual(verdict, { kind: "push", push: { repositories: ["gitlab.example.com/team/deploy"], ref: "main", paths: ["apps/web/a.yaml"], revision: after }, delivery: "s-1" });
    const created = Buffer.from(JSON.stringify({ event_name: "project_create", path_with_namespace: "team/new" }));
    const ignored = verifyWebhook("gitlab", { "x-gitlab-token": SECRET, "x-gitlab-event": "System Hook" }, created, SECRET, now);
    assert.deepEqual(ignored, { kind: "ignored", status: 202, reason: 'system hook event "project_create" is not a push' });
    assert.equal(verifyWebhook("gitlab", { "x-gitlab-token": "guess", "x-gitlab-event": "System Hook" }, body, SECRET, now).kind, "rejected");
  });

  test("a branch push names its commit (after); a tag push or a deletion names none", () => {
    const after = "a".repeat(40);
    const signed = (payload: Record<string, unknown>) => {
      const body = Buffer.from(JSON.stringify({ repository: { clone_url: "https://github.com/acme/deploy.git" }, ...payload }));
      const verdict = verifyWebhook("github", { "x-hub-signature-256": `sha256=${hmac(body)}`, "x-github-event": "push" }, body, SECRET, now);
      return verdict.kind === "push" ? verdict.push.revision : "not a push";
    };
    assert.equal(signed({ ref: "refs/heads/main", after }), after);
    assert.equal(signed({ ref: "refs/heads/main", after: after.toUpperCase() }), after);
    assert.equal(signed({ ref: "refs/tags/v1", after }), undefined);
    assert.equal(signed({ ref: "refs/heads/main", after: "0".repeat(40) }), undefined);
    assert.equal(signed({ ref: "refs/heads/main", after: "main" }), undefined);
    const gitea = Buffer.from(JSON.stringify({ ref: "refs/heads/main", after, repository: { clone_url: "https://gitea.example.com/acme/deploy.git" } }));
    const verdict = verifyWebhook("gitea", { "x-gitea-signature": hmac(gitea), "x-gitea-event": "push" }, gitea, SECRET, now);
    assert.equal(verdict.kind === "push" ? verdict.push.revision : undefined, after);
  });

  test("one repository spelled many ways has one identity", () => {
    const forms = ["https://github.com/Acme/Deploy.git", "https://token@github.com/acme/deploy/", "git@github.com:acme/deploy.git", "ssh://git@github.com:22/acme/deploy", "http://github.com/acme/deploy"];
    assert.deepEqual(new Set(forms.map(repositoryIdentity)), new Set(["github.com/acme/deploy"]));
    assert.equal(repositoryIdentity("file:///srv/git/deploy.git"), "/srv/git/deploy");
    assert.equal(repositoryIdentity("/srv/git/deploy/"), "/srv/git/deploy");
  });

  test("a delivery is acted on once", () => {
    const guard = new ReplayGuard({ maxEntries: 2, ttlMs: 1000 });
    assert.equal(guard.firstTime("a", 0), true);
    assert.equal(guard.firstTime("a", 10), false);
    assert.equal(guard.firstTime("a", 2000), true, "after the time to live it is new again");
    guard.firstTime("b", 2001);
    guard.firstTime("c", 2002);
    assert.equal(guard.firstTime("a", 2003), true, "the oldest entry made room");
  });
});
