/**
 * Benchmark: the Kubernetes target against the in-process fake API server.
 * APPS applications (default 1,000) of 4 objects each (Deployment, Service,
 * ServiceAccount, ConfigMap), run by one agent:
 *
 *   1. the first commit, until every application is Ready;
 *   2. one commit that changes every object, until every application is Ready at it;
 *   3. a pass with no change (every application reconciled again): API calls, writes;
 *   4. a commit touching no application (the README): no render, no API call;
 *   5. a commit changing one application, and one changing one object: only
 *      that application renders, and one write for one changed object.
 *
 * Prints API calls, writes, wall time and peak memory (the fake runs in the
 * same process, so the memory figure includes it).
 *
 *   npm run bench              (APPS=200 CONCURRENCY=32 to change the defaults)
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "../src/agent/agent.js";
import { findCondition } from "../src/core/conditions.js";
import { TestRepository } from "../test/support/test-repository.js";
import { startFakeKube } from "../test/support/kube-fake/index.js";
import { appObjects } from "./kube-objects.js";

const APPS = Number(process.env.APPS ?? 1000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 32);

function appFiles(version: number, only?: number): Record<string, string> {
  const files: Record<string, string> = {};
  const apps: string[] = [];
  for (let i = 0; i < APPS; i++) {
    const name = `app-${i}`;
    apps.push(`apiVersion: ferry.dev/v1
kind: Application
metadata:
  name: ${name}
spec:
  source:
    path: apps/${name}
  target: kubernetes
  syncPolicy:
    interval: 1h
`);
    if (only !== undefined && only !== i) continue;
    files[`apps/${name}/objects.yaml`] = appObjects(name, version);
  }
  if (only === undefined) files["ferry/applications.yaml"] = apps.join("---\n");
  return files;
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "ferry-bench-kube-"));
  const repo = await TestRepository.create();
  const fake = await startFakeKube({ simulateControllers: true });
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 250);
  const agent = new Agent({
    repo: repo.directory,
    ref: "main",
    path: "ferry",
    stateDir: join(work, "state"),
    root: join(work, "live"),
    pollIntervalMs: 3_600_000,
    jitter: 0,
    listen: false,
    healthTimeoutMs: 120_000,
    concurrency: CONCURRENCY,
    kubeconfig: fake.kubeconfigPath,
    kubeContext: "fake",
    history: `sqlite:${join(work, "history.db")}`,
  });
  const rows: string[] = [];
  const measure = async (label: string, work: () => Promise<void>): Promise<void> => {
    fake.stats.reset();
    const renders = agent.engine.runCounts().renders;
    const start = performance.now();
    await work();
    const ms = performance.now() - start;
    if (process.env.BENCH_VERBS) console.log(label, JSON.stringify(fake.stats.byVerb));
    const rendered = agent.engine.runCounts().renders - renders;
    rows.push(`${label.padEnd(52)} ${String(fake.stats.calls).padStart(8)} ${String(fake.stats.writes).padStart(8)} ${String(rendered).padStart(8)} ${(ms / 1000).toFixed(2).padStart(9)}`);
  };
  const allReadyAt = async (revision: string): Promise<void> => {
    const deadline = Date.now() + 30 * 60_000;
    for (;;) {
      const statuses = agent.statuses();
      const ready = statuses.filter((s) => s.sync.revision === revision && findCondition(s.conditions, "Ready")?.status === "True").length;
      if (ready === APPS) return;
      if (Date.now() > deadline) throw new Error(`only ${ready} of ${APPS} applications became Ready at ${revision.slice(0, 8)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  try {
    let revision = await repo.commit(appFiles(1), "version 1");
    await measure(`first commit: ${APPS} x 4 objects created`, async () => {
      await agent.start();
      await allReadyAt(revision);
    });
    revision = await repo.commit(appFiles(2), "version 2 everywhere");
    await measure("one commit changing every object", async () => {
      await agent.refresh();
      await allReadyAt(revision);
    });
    await measure("a pass with no change (every application)", async () => {
      for (const app of agent.engine.applications()) agent.engine.enqueue(app.name, "interval");
      await agent.engine.whenIdle();
    });
    revision = await repo.commit({ "README.md": "applications of the benchmark\n" }, "a commit touching no application");
    await measure("one commit touching no application (README)", async () => {
      await agent.refresh();
      await agent.engine.whenIdle();
      await allReadyAt(revision);
    });
    revision = await repo.commit(appFiles(3, 7), "version 3 of app-7");
    await measure("one commit changing one application's 4 objects", async () => {
      await agent.refresh();
      await allReadyAt(revision);
    });
    const one = appObjects("app-11", 2).replace("greeting: hello 2", "greeting: hello again");
    revision = await repo.commit({ "apps/app-11/objects.yaml": one }, "one ConfigMap of app-11");
    await measure("one commit changing one object", async () => {
      await agent.refresh();
      await allReadyAt(revision);
    });
  } finally {
    clearInterval(sampler);
    await agent.stop();
    await fake.close();
    await repo.remove();
    await rm(work, { recursive: true, force: true });
  }
  console.log(`\nkubernetes target against the fake API server: ${APPS} applications x 4 objects, concurrency ${CONCURRENCY}, node ${process.version}\n`);
  console.log(`${"case".padEnd(52)} ${"calls".padStart(8)} ${"writes".padStart(8)} ${"renders".padStart(8)} ${"seconds".padStart(9)}`);
  for (const row of rows) console.log(row);
  console.log(`\npeak memory (agent and fake in one process): ${(peak / 1024 / 1024).toFixed(0)} MiB rss`);
  console.log("aims: no writes on a pass with no change; no render and no call for a commit touching no application; one render for a commit touching one; exactly one write for one changed object.");
}

await main();
