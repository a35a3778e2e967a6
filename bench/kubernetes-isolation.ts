/**
 * Benchmark: the agent against clusters in other processes, as it runs for real.
 *
 *   1. Isolation: HEALTHY applications (default 200) on a healthy cluster (the
 *      fake API server), timed from the agent's start until every one is Ready;
 *      alone and beside DARK applications (default 50) on a cluster that
 *      accepts connections and never answers, twice each (alone, beside,
 *      beside, alone). Printed with the ratio of the means (aim: within 2x).
 *   2. Memory: APPS applications (default 1,000) x 4 objects on the healthy
 *      cluster until every one is Ready, then a pass with no change; the
 *      agent's peak resident memory (VmHWM of /proc, agent process only; aim:
 *      under 150 MiB).
 *
 * The agent runs as `ferry agent` (the CLI), the fake API server as
 * bench/fake-kube-process.ts: neither is measured with the other.
 *
 *   node dist/bench/kubernetes-isolation.js     (HEALTHY, DARK, APPS to change the defaults;
 *                                               FERRY_CLI=<other build>/dist/src/cli/main.js ONLY=memory
 *                                               to compare memory with a build that has no isolation)
 */
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import { readAgentInfo } from "../src/agent/state-dir.js";
import { AgentClient } from "../src/cli/client.js";
import { TestRepository } from "../test/support/test-repository.js";
import { startDarkServer } from "../test/support/dark-server.js";
import { appObjects } from "./kube-objects.js";

const HEALTHY = Number(process.env.HEALTHY ?? 200);
const DARK = Number(process.env.DARK ?? 50);
const APPS = Number(process.env.APPS ?? 1000);
/** The CLI whose agent is measured (FERRY_CLI: another build's dist/src/cli/main.js, to compare). */
const CLI = process.env.FERRY_CLI ?? fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const FAKE = fileURLToPath(new URL("./fake-kube-process.js", import.meta.url));

/** One Application per name, on a kubeconfig context. */
function applications(names: readonly string[], cluster: string): string[] {
  return names.map((name) => `apiVersion: ferry.dev/v1
kind: Application
metadata:
  name: ${name}
spec:
  source:
    path: apps/${name}
  target: kubernetes
  cluster: ${cluster}
  syncPolicy:
    interval: 1h
`);
}

function names(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
}

/** Starts the fake API server in its own process; resolves with its kubeconfig once it serves. */
async function startFakeProcess(): Promise<{ child: ChildProcess; url: string; kubeconfig: string }> {
  const child = spawn(process.execPath, [FAKE], { stdio: ["pipe", "pipe", "inherit"] });
  const line = await new Promise<string>((resolve, reject) => {
    let text = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      text += chunk.toString("utf8");
      const end = text.indexOf("\n");
      if (end >= 0) resolve(text.slice(0, end));
    });
    child.once("exit", (code) => reject(new Error(`the fake API server exited with ${code}`)));
  });
  const { url, kubeconfig } = JSON.parse(line) as { url: string; kubeconfig: string };
  return { child, url, kubeconfig };
}

/** The common prefix of the names (`live-`), to count only those applications. */
function prefixOf(list: readonly string[]): string {
  const first = list[0] ?? "";
  return first.slice(0, first.lastIndexOf("-") + 1);
}

/** The agent's peak resident memory so far, in bytes (Linux). */
function peakRss(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) * 1024 : 0;
}

interface Run {
  readonly seconds: number;
  readonly peakMiB: number;
}

/**
 * Runs `ferry agent` on a fresh state directory with `kubeconfig`, and waits
 * until every application in `waitFor` is Ready at `revision`; optionally
 * runs `after` (with the agent's client) before it stops.
 */
async function runAgent(repo: TestRepository, kubeconfig: string, waitFor: readonly string[], revision: string, after?: (client: AgentClient) => Promise<void>): Promise<Run> {
  const work = await mkdtemp(join(tmpdir(), "ferry-bench-isolation-"));
  const state = join(work, "state");
  const started = performance.now();
  const agent = spawn(
    process.execPath,
    [CLI, "--state-dir", state, "agent", "--repo", repo.directory, "--path", "ferry", "--root", join(work, "live"), "--interval", "1h", "--kubeconfig", kubeconfig, "--kube-context", "fake", "--history", `sqlite:${join(work, "history.db")}`],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  try {
    const deadline = Date.now() + 30 * 60_000;
    const search = prefixOf(waitFor);
    let client: AgentClient | undefined;
    for (;;) {
      const info = await readAgentInfo(state);
      client ??= info ? new AgentClient(info) : undefined;
      if (info) {
        // A count, not the list: reading 1,000 statuses ten times a second would weigh on the memory measured.
        const res = await fetch(`${info.url}/api/v1/applications?sync=Synced&health=Healthy&limit=1&search=${encodeURIComponent(search)}`, { headers: { authorization: `Bearer ${info.token}` } }).catch(() => undefined);
        const total = res?.ok ? ((await res.json()) as { total: number }).total : 0;
        if (total === waitFor.length) break;
        if (Date.now() > deadline) throw new Error(`only ${total} of ${waitFor.length} applications became Ready`);
      }
      if (agent.exitCode !== null) throw new Error(`the agent exited with ${agent.exitCode}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const seconds = (performance.now() - started) / 1000;
    if (after && client) await after(client);
    return { seconds, peakMiB: peakRss(agent.pid ?? 0) / 1024 / 1024 };
  } finally {
    agent.kill("SIGTERM");
    await new Promise((resolve) => agent.once("exit", resolve));
    await rm(work, { recursive: true, force: true });
  }
}

/** A kubeconfig of a fresh fake API server (context "fake") and the dark server (context "dark"). */
async function kubeconfigWith(fakeKubeconfig: string, darkUrl: string, dir: string): Promise<string> {
  const base = parse(await readFile(fakeKubeconfig, "utf8")) as { clusters: unknown[]; users: unknown[]; contexts: unknown[] };
  const file = join(dir, `kubeconfig-${Date.now()}`);
  await writeFile(
    file,
    stringify({
      ...base,
      clusters: [...base.clusters, { name: "dark", cluster: { server: darkUrl, "insecure-skip-tls-verify": true } }],
      contexts: [...base.contexts, { name: "dark", context: { cluster: "dark", user: "fake" } }],
    }),
  );
  return file;
}

/** One agent run against a fresh fake API server of its own (so no run finds another's objects). */
async function withFreshCluster<T>(darkUrl: string, dir: string, run: (kubeconfig: string) => Promise<T>): Promise<T> {
  const fake = await startFakeProcess();
  try {
    return await run(await kubeconfigWith(fake.kubeconfig, darkUrl, dir));
  } finally {
    fake.child.stdin?.end();
    fake.child.kill("SIGTERM");
    await new Promise((resolve) => fake.child.once("exit", resolve));
  }
}

async function main(): Promise<void> {
  const dark = await startDarkServer();
  const repo = await TestRepository.create();
  const work = await mkdtemp(join(tmpdir(), "ferry-bench-kubeconfig-"));
  try {
    const healthy = names("live", HEALTHY);
    const darkApps = names("dark", DARK);
    const files: Record<string, string> = {};
    for (const name of [...healthy, ...darkApps]) files[`apps/${name}/objects.yaml`] = appObjects(name, 1);

    const isolation = process.env.ONLY !== "memory";
    files["ferry/applications.yaml"] = applications(healthy, "fake").join("---\n");
    const alone = await repo.commit(files, "healthy applications only");
    // Beside a dark cluster: its applications first in the configuration, so they are queued first.
    files["ferry/applications.yaml"] = [...applications(darkApps, "dark"), ...applications(healthy, "fake")].join("---\n");
    const both = await repo.commit(files, "and applications on a dark cluster");
    // Alone, beside, beside, alone: a machine whose load drifts during the runs weighs on both sides alike.
    const timings = { alone: [] as number[], withDark: [] as number[] };
    for (const which of isolation ? (["alone", "withDark", "withDark", "alone"] as const) : []) {
      const revision = which === "alone" ? alone : both;
      const run = await withFreshCluster(dark.url, work, (kubeconfig) => runAgent(repo, kubeconfig, healthy, revision));
      timings[which].push(run.seconds);
    }

    // Memory: APPS applications x 4 objects, until Ready, then a pass with no change.
    const many = names("app", APPS);
    const manyFiles: Record<string, string> = { "ferry/applications.yaml": applications(many, "fake").join("---\n") };
    for (const name of many) manyFiles[`apps/${name}/objects.yaml`] = appObjects(name, 1);
    const manyRevision = await repo.commit(manyFiles, `${APPS} applications`);
    const memory = await withFreshCluster(dark.url, work, (kubeconfig) =>
      runAgent(repo, kubeconfig, many, manyRevision, async (client) => {
        // The status of every application is read once more (as a dashboard does) while the agent holds them all.
        await client.applications();
      }),
    );

    console.log(`\nkubernetes target, agent (${CLI}) and fake API server in separate processes, node ${process.version}\n`);
    if (isolation) {
      const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
      const [aloneMean, darkMean] = [mean(timings.alone), mean(timings.withDark)];
      console.log(`${HEALTHY} applications on a healthy cluster, until all are Ready (mean of two runs each):`);
      console.log(`  alone                                      ${aloneMean.toFixed(2).padStart(8)} s   (${timings.alone.map((t) => t.toFixed(1)).join(", ")})`);
      console.log(`  beside ${String(DARK).padEnd(4)} applications on a dark cluster ${darkMean.toFixed(2).padStart(8)} s   (${timings.withDark.map((t) => t.toFixed(1)).join(", ")})   ratio ${(darkMean / aloneMean).toFixed(2)} (aim: at most 2.00)`);
    }
    console.log(`\n${APPS} applications x 4 objects: Ready after ${memory.seconds.toFixed(2)} s; agent peak memory ${memory.peakMiB.toFixed(0)} MiB rss (aim: under 150 MiB)`);
  } finally {
    await dark.close();
    await repo.remove();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
