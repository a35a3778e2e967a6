// A registry push notification at /hooks/registry makes the watcher of the
// pipeline that watches it check now, against a real agent, a real directory
// of artifacts and real HTTP: the watcher's interval is an hour, so only the
// notification can make it find the new version.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { TestRepository } from "../../test/support/test-repository.js";
import type { PipelineView } from "../promote/pipeline-view.js";
import type { Agent } from "./agent.js";
import { startTestAgent } from "../../test/support/agent-test-support.js";
import type { AgentInfo } from "./state-dir.js";

const SECRET = "registry-webhook-secret-0123456789";

function signed(body: unknown, secret = SECRET, seconds = Math.floor(Date.now() / 1000)): RequestInit {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  const signature = createHmac("sha256", secret).update(`${seconds}.${text}`).digest("hex");
  return { method: "POST", body: text, headers: { "content-type": "application/json", "x-ferry-timestamp": String(seconds), "x-ferry-signature": `sha256=${signature}` } };
}

const config = (artifacts: string): Record<string, string> => ({
  "ferry/apps.yaml": `apiVersion: ferry.dev/v1
kind: Application
metadata:
  name: web-dev
spec:
  source:
    path: apps/dev
  environment: dev
`,
  "ferry/pipeline.yaml": `apiVersion: ferry.dev/v1
kind: Pipeline
metadata:
  name: web
spec:
  watch:
    type: directory
    path: ${artifacts}
    pattern: web-{version}.tgz
    interval: 1h
  environments:
    - name: dev
`,
  "apps/dev/note.yaml": `apiVersion: host.ferry.dev/v1
kind: File
metadata:
  name: note
spec:
  path: note.txt
  content: "web 1.0.0" # ferry:set web:version
`,
});

describe("registry webhooks", () => {
  let repo: TestRepository;
  let work: string;
  let artifacts: string;
  let agent: Agent;
  let info: AgentInfo;
  let stop: () => Promise<void>;
  const pipeline = async (): Promise<PipelineView> => {
    const res = await fetch(info.url + "/api/v1/pipelines/web", { headers: { authorization: `Bearer ${info.token}` } });
    assert.equal(res.status, 200);
    return (await res.json()) as PipelineView;
  };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), "ferry-registry-hook-"));
    artifacts = join(work, "artifacts");
    await mkdir(artifacts);
    repo = await TestRepository.create();
    await repo.commit(config(artifacts));
    ({ agent, info, stop } = await startTestAgent(repo, work, { webhookSecret: SECRET }));
    await agent.promotions.settle();
  });

  after(() => stop());

  it("a signed notification makes the watcher find the pushed version now; forged, malformed and unrelated ones trigger nothing", async () => {
    await writeFile(join(artifacts, "web-2.0.0.tgz"), "two");
    const hook = (init: RequestInit) => fetch(info.url + "/hooks/registry", init);

    const forged = await hook(signed({ repository: artifacts, tag: "2.0.0" }, "not-the-secret-at-all"));
    assert.equal(forged.status, 401);
    const malformed = await hook(signed({ tag: "2.0.0" }));
    assert.equal(malformed.status, 400);
    assert.match(((await malformed.json()) as { error: string }).error, /"repository"/);
    assert.equal((await hook(signed("not json"))).status, 400);
    const unrelated = await hook(signed({ events: [{ action: "push", target: { repository: "team/other", tag: "2.0.0" }, request: { host: "registry.example.com" } }] }));
    assert.equal(unrelated.status, 202);
    assert.deepEqual(await unrelated.json(), { pipelines: [] });
    agent.promotions.poke();
    await agent.promotions.settle();
    assert.equal((await pipeline()).promotion, undefined, "the watcher waits for its interval: nothing found yet");

    const request = signed({ repository: artifacts, tag: "2.0.0" });
    const res = await hook(request);
    assert.equal(res.status, 202);
    assert.deepEqual(await res.json(), { pipelines: ["web"] });
    assert.equal((await hook(request)).status, 409, "the same delivery again is a replay");
    let view = await pipeline();
    for (let i = 0; i < 100 && view.promotion === undefined; i++) {
      await new Promise((r) => setTimeout(r, 200));
      view = await pipeline();
    }
    assert.equal(view.promotion?.version, "2.0.0");
    assert.equal(view.promotion?.startedBy, "watch");
  });
});
