// The history answers what the status already shows: a status that reports a
// deployment is queryable in the history at that moment, under load, and a
// restarted agent records what runs when the ledger lacks it.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { TestRepository } from "../../test/support/test-repository.js";
import { applicationYaml, startTestAgent } from "../../test/support/agent-test-support.js";

const APPS = Array.from({ length: 12 }, (_, i) => `app-${String(i).padStart(2, "0")}`);

/** A host File labelled with a version: the version is what the history is asked about. */
const versionedFile = (name: string, version: string): string => `apiVersion: host.ferry.dev/v1
kind: File
metadata:
  name: ${name}
  labels:
    app.kubernetes.io/version: "${version}"
spec:
  path: ${name}.txt
  content: "${name} ${version}"
`;

const release = (version: string): Record<string, string> => Object.fromEntries(APPS.map((a) => [`apps/${a}/file.yaml`, versionedFile(a, version)]));

describe("history durable before the status reports it", () => {
  test("under load, every status that reports a deployment is queryable in the history at once", async () => {
    const repo = await TestRepository.create();
    await repo.commit({ "ferry/apps.yaml": APPS.map(applicationYaml).join("---\n"), ...release("1.0.0") });
    const work = await mkdtemp(join(tmpdir(), "ferry-history-durable-"));
    const checks: Promise<string | undefined>[] = [];
    const { agent, stop } = await startTestAgent(repo, work, {}, (a) =>
      a.engine.subscribe((event) => {
        if (event.type !== "StatusChanged" || event.status.lastSync?.outcome !== "Succeeded") return;
        const { name } = event.status;
        const versions = event.status.lastSync.versions ?? [];
        // Asked in the same instant the status changed, as a user reading it would ask next.
        checks.push(
          a.history.store().then(async (store) => {
            for (const version of versions) {
              const found = await store.deployments({ application: name, version });
              if (found.items.length === 0) return `${name} reports ${version} deployed, the history has no such deployment`;
            }
            return undefined;
          }),
        );
      }),
    );
    try {
      for (const version of ["2.0.0", "3.0.0"]) {
        await repo.commit(release(version));
        await agent.refresh();
        await agent.engine.whenIdle();
      }
      const failures = (await Promise.all(checks)).filter((f): f is string => f !== undefined);
      assert.ok(checks.length >= APPS.length * 3, `every sync reported (${checks.length} statuses)`);
      assert.deepEqual(failures, []);
    } finally {
      await stop();
    }
  });

  test("a restarted agent records the version it finds running when the history lacks it", async () => {
    const repo = await TestRepository.create();
    await repo.commit({ "ferry/apps.yaml": applicationYaml("web"), "apps/web/file.yaml": versionedFile("web", "1.2.0") }, "Release web 1.2.0");
    const work = await mkdtemp(join(tmpdir(), "ferry-history-found-"));
    const historyUrl = (n: number): string => `sqlite:${join(work, `history-${n}.db`)}`;
    const first = await startTestAgent(repo, work, { history: historyUrl(1) });
    assert.equal(first.agent.engine.status("web")?.sync.status, "Synced");
    await first.agent.stop();
    // The new ledger lacks the sync, as one does whose agent died before writing it.
    const second = await startTestAgent(repo, work, { history: historyUrl(2) });
    try {
      const store = await second.agent.history.store();
      const [deployment] = (await store.deployments({ application: "web", version: "1.2.0" })).items;
      assert.ok(deployment, "the version running at start is in the history");
      assert.equal(deployment.to, undefined, "and runs");
      const [event] = (await store.events({ application: "web", types: ["SyncFinished"] })).items;
      assert.deepEqual([event?.trigger, event?.reason, event?.subject], ["startup", "FoundRunning", "Release web 1.2.0"]);
      // Found once: a third start with the same ledger adds nothing.
      await second.agent.stop();
      const third = await startTestAgent(repo, work, { history: historyUrl(2) });
      const again = await (await third.agent.history.store()).events({ application: "web", types: ["SyncFinished"] });
      assert.equal(again.items.length, 1);
      await third.stop();
    } finally {
      await second.agent.stop().catch(() => undefined);
      await rm(work, { recursive: true, force: true });
    }
  });
});
