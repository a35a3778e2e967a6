/**
 * Benchmark: the agent's application list API with many applications, and the
 * latency from a signed push webhook to the commit applied on the host target.
 *
 * 1. A real agent loads a configuration of APPS applications (default 10,000)
 *    in four environments, each of four host Files, reconciles them all (so
 *    every status holds its objects, conditions and last sync, as in a
 *    running agent) and serves its API over HTTP. Each request is
 *    timed end to end by a client on the same machine, ROUNDS times: the
 *    unfiltered first page of 50 is the baseline, against which a later page,
 *    an environment filter and a search are set, and the whole unpaged list.
 * 2. A real agent on the host target with a service answering over HTTP,
 *    polling every hour: each round commits a change, sends a signed push to
 *    /hooks/generic and waits until the service answers with the change.
 *
 *   npm run bench        (APPS=10000 ROUNDS=100 HOOK_ROUNDS=7 to change the defaults)
 */
import { createHmac } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "../src/agent/agent.js";
import type { ApplicationList } from "../src/agent/api-types.js";
import { queryApplications } from "../src/agent/application-query.js";
import { readAgentInfo } from "../src/agent/state-dir.js";
import { exampleFiles } from "../src/quickstart/example-repository.js";
import { TestRepository } from "../test/support/test-repository.js";
import { createHostTarget } from "../src/targets/host/host-target.js";
import { freePort } from "../test/support/free-port.js";
import { percentile, untilServes } from "./measure.js";

const APPS = Number(process.env.APPS ?? 10_000);
const ROUNDS = Number(process.env.ROUNDS ?? 100);
/** The API allows 50 requests a second per client (burst 100): the client stays under it, between timed requests. */
const PACE_MS = 25;
const HOOK_ROUNDS = Number(process.env.HOOK_ROUNDS ?? 7);
const ENVIRONMENTS = ["dev", "acc", "prd", "ops"] as const;
const SECRET = "bench-webhook-secret-0123456789";

async function listBench(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "ferry-bench-api-"));
  const repo = await TestRepository.create();
  const applications = Array.from(
    { length: APPS },
    (_, i) => `apiVersion: ferry.dev/v1
kind: Application
metadata:
  name: app-${String(i).padStart(5, "0")}
spec:
  source:
    path: apps/app-${String(i).padStart(5, "0")}
  environment: ${ENVIRONMENTS[i % ENVIRONMENTS.length] ?? "dev"}
`,
  ).join("---\n");
  const files: Record<string, string> = { "ferry/applications.yaml": applications };
  for (let i = 0; i < APPS; i++) {
    const name = `app-${String(i).padStart(5, "0")}`;
    files[`apps/${name}/files.yaml`] = [0, 1, 2, 3]
      .map((f) => `apiVersion: host.ferry.dev/v1\nkind: File\nmetadata:\n  name: ${name}-f${f}\nspec:\n  path: ${name}/f${f}.conf\n  content: "${name} file ${f}\\n"\n`)
      .join("---\n");
  }
  await repo.commit(files, `${APPS} applications`);
  const state = join(work, "state");
  const agent = new Agent({ repo: repo.directory, ref: "main", path: "ferry", stateDir: state, root: join(work, "live"), pollIntervalMs: 3_600_000, jitter: 0, listen: { host: "127.0.0.1", port: 0 } });
  try {
    const loadStart = performance.now();
    await agent.start({ poll: false });
    await agent.engine.whenIdle();
    const loaded = performance.now() - loadStart;
    const unreconciled = agent.statuses().filter((s) => s.inventory.length !== 4 || s.lastSync === undefined).length;
    if (unreconciled > 0) throw new Error(`${unreconciled} applications have no objects after the first sync`);
    const info = await readAgentInfo(state);
    if (!info) throw new Error("the agent wrote no agent.json");
    const get = async (query: string): Promise<{ ms: number; bytes: number; list: ApplicationList }> => {
      await new Promise((r) => setTimeout(r, PACE_MS));
      const start = performance.now();
      const res = await fetch(`${info.url}/api/v1/applications${query}`, { headers: { authorization: `Bearer ${info.token}` } });
      const text = await res.text();
      const ms = performance.now() - start;
      if (res.status !== 200) throw new Error(`${query}: ${res.status} ${text}`);
      return { ms, bytes: text.length, list: JSON.parse(text) as ApplicationList };
    };
    const first = await get("?limit=50");
    if (first.list.total !== APPS) throw new Error(`expected ${APPS} applications, the API lists ${first.list.total}`);
    const middle = `app-${String(Math.floor(APPS / 2)).padStart(5, "0")}`;
    const cases: [string, string][] = [
      ["first page of 50, unfiltered (baseline)", "?limit=50"],
      ["page of 50 in the middle (continue=)", `?limit=50&continue=${middle}`],
      ["page of 50, environment=prd", "?limit=50&environment=prd"],
      ["page of 50, search=app-07", "?limit=50&search=app-07"],
      ["page of 50, environment=prd and search=9", "?limit=50&environment=prd&search=9"],
      [`all ${APPS} (no limit, as the CLI asks)`, ""],
    ];
    const results: { name: string; samples: number[]; bytes: number; total: number }[] = [];
    for (const [name, query] of cases) {
      for (let i = 0; i < 5; i++) await get(query); // warm up
      const samples: number[] = [];
      let bytes = 0;
      let total = 0;
      const rounds = query === "" ? Math.max(5, Math.floor(ROUNDS / 20)) : ROUNDS;
      for (let i = 0; i < rounds; i++) {
        const r = await get(query);
        samples.push(r.ms);
        bytes = r.bytes;
        total = r.list.total;
      }
      results.push({ name, samples, bytes, total });
    }
    // Where a page's time goes, measured in the agent's process: the statuses, then filtering, sorting and cutting the page.
    const inProcess = { statuses: [] as number[], query: [] as number[] };
    const environments = new Map(agent.engine.applications().map((a) => [a.name, a.spec.environment]));
    for (let i = 0; i < ROUNDS; i++) {
      let start = performance.now();
      const statuses = agent.statuses();
      inProcess.statuses.push(performance.now() - start);
      start = performance.now();
      queryApplications(statuses, (n) => environments.get(n), { limit: 50, environment: "prd", search: "9" });
      inProcess.query.push(performance.now() - start);
    }
    results.push({ name: `in process: every status (${APPS})`, samples: inProcess.statuses, bytes: 0, total: APPS });
    results.push({ name: "in process: filter, sort, page (prd, 9)", samples: inProcess.query, bytes: 0, total: APPS });
    const base = percentile(results[0]?.samples ?? [], 50);
    console.log(`\napplication list API (${APPS} applications of 4 Files, reconciled in ${(loaded / 1000).toFixed(1)} s, ${ROUNDS} requests per case, node ${process.version})\n`);
    console.log(`${"request".padEnd(46)} ${"matches".padStart(8)} ${"bytes".padStart(9)} ${"p50 ms".padStart(8)} ${"p95 ms".padStart(8)} ${"x base".padStart(7)}`);
    for (const r of results) {
      const p50 = percentile(r.samples, 50);
      console.log(`${r.name.padEnd(46)} ${String(r.total).padStart(8)} ${String(r.bytes).padStart(9)} ${p50.toFixed(2).padStart(8)} ${percentile(r.samples, 95).toFixed(2).padStart(8)} ${(p50 / base).toFixed(2).padStart(7)}`);
    }
    const worstPage = Math.max(...results.slice(0, cases.length - 1).map((r) => percentile(r.samples, 95)));
    console.log(`\naim: a page of 50 in well under 100 ms with ${APPS} applications (worst p95 of a page: ${worstPage.toFixed(1)} ms): ${worstPage < 100 ? "met" : "NOT met"}`);
  } finally {
    await agent.stop();
    await rm(work, { recursive: true, force: true });
    await repo.remove();
  }
}

async function webhookBench(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "ferry-bench-hook-"));
  const repo = await TestRepository.create();
  const port = await freePort();
  const files = exampleFiles(port);
  await repo.commit(Object.fromEntries(Object.entries(files)), "initial");
  const state = join(work, "state");
  const root = join(work, "live");
  const agent = new Agent({
    repo: repo.directory,
    ref: "main",
    path: "ferry",
    stateDir: state,
    root,
    pollIntervalMs: 3_600_000,
    jitter: 0,
    listen: { host: "127.0.0.1", port: 0 },
    webhookSecret: SECRET,
    healthTimeoutMs: 30_000,
  });
  try {
    await agent.start();
    await agent.engine.whenIdle();
    await untilServes(port, "Hello from Ferry");
    const info = await readAgentInfo(state);
    if (!info) throw new Error("the agent wrote no agent.json");
    const toAnswer: number[] = [];
    const toAccepted: number[] = [];
    for (let i = 0; i < HOOK_ROUNDS; i++) {
      const greeting = `Greeting ${i + 1}`;
      await repo.commit({ "apps/web/files.yaml": files["apps/web/files.yaml"]?.replace("Hello from Ferry", greeting) ?? "" }, greeting);
      const start = performance.now();
      const res = await fetch(`${info.url}/hooks/generic`, signed({ repository: repo.directory, ref: "main", after: greeting }));
      if (res.status !== 202) throw new Error(`webhook answered ${res.status}: ${await res.text()}`);
      toAccepted.push(performance.now() - start);
      await untilServes(port, greeting);
      toAnswer.push(performance.now() - start);
    }
    console.log(`\nwebhook to applied, host target (${HOOK_ROUNDS} rounds; the agent polls every hour, so only the webhook triggers)\n`);
    console.log(`${"case".padEnd(52)} ${"p50 ms".padStart(8)} ${"p95 ms".padStart(8)} ${"max".padStart(8)}`);
    for (const [name, samples] of [
      ["signed push -> 202 (sources refreshed)", toAccepted],
      ["signed push -> the service answers with the commit", toAnswer],
    ] as const) {
      console.log(`${name.padEnd(52)} ${percentile(samples, 50).toFixed(1).padStart(8)} ${percentile(samples, 95).toFixed(1).padStart(8)} ${Math.max(...samples).toFixed(1).padStart(8)}`);
    }
  } finally {
    await agent.stop();
    const host = createHostTarget({ root, stateDir: join(state, "host") });
    await host.stopAll();
    await host.close();
    await rm(work, { recursive: true, force: true });
    await repo.remove();
  }
}

function signed(body: unknown): RequestInit {
  const text = JSON.stringify(body);
  const seconds = Math.floor(Date.now() / 1000);
  const signature = createHmac("sha256", SECRET).update(`${seconds}.${text}`).digest("hex");
  return { method: "POST", body: text, headers: { "content-type": "application/json", "x-ferry-timestamp": String(seconds), "x-ferry-signature": `sha256=${signature}` } };
}




await listBench();
await webhookBench();
