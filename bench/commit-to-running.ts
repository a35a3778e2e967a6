/**
 * Benchmark: latency from a commit to the new version answering over HTTP, on
 * the host target, next to the cost of the git operations it cannot avoid
 * (`git ls-remote` and a shallow `git fetch` of the same repository),
 * measured in the same run on the same machine.
 *
 *   npm run bench              (ROUNDS=7 POLL_MS=1000 to change the defaults)
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "../src/agent/agent.js";
import { runGit } from "../src/source/git.js";
import { TestRepository } from "../test/support/test-repository.js";
import { createHostTarget } from "../src/targets/host/host-target.js";
import { exampleFiles } from "../src/quickstart/example-repository.js";
import { freePort } from "../test/support/free-port.js";
import { median, timed, untilServes } from "./measure.js";

const ROUNDS = Number(process.env.ROUNDS ?? 7);
const POLL_MS = Number(process.env.POLL_MS ?? 1000);

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "ferry-bench-"));
  const repo = await TestRepository.create();
  const port = await freePort();
  const files = exampleFiles(port);
  await repo.commit(Object.fromEntries(Object.entries(files)), "initial");
  const state = join(work, "state");
  const root = join(work, "live");
  const agent = new Agent({ repo: repo.directory, ref: "main", path: "ferry", stateDir: state, root, pollIntervalMs: POLL_MS, jitter: 0, listen: false, healthTimeoutMs: 30_000 });
  try {
    await agent.start();
    await agent.engine.whenIdle();
    await untilServes(port, "Hello from Ferry");

    const baseline = { lsRemote: [] as number[], fetch: [] as number[] };
    for (let i = 0; i < ROUNDS; i++) {
      baseline.lsRemote.push(await timed(() => runGit(["ls-remote", `file://${repo.directory}`, "refs/heads/main"])));
      const bare = join(work, `bare-${i}`);
      await runGit(["init", "--bare", "-q", bare]);
      baseline.fetch.push(await timed(() => runGit(["fetch", "-q", "--depth=1", `file://${repo.directory}`, "main"], { cwd: bare })));
    }

    const triggeredFile: number[] = [];
    const triggeredService: number[] = [];
    const polled: number[] = [];
    let n = 0;
    const commitGreeting = async (): Promise<string> => {
      const greeting = `Greeting ${++n}`;
      await repo.commit({ "apps/web/files.yaml": files["apps/web/files.yaml"]?.replace("Hello from Ferry", greeting) ?? "" }, greeting);
      return greeting;
    };
    for (let i = 0; i < ROUNDS; i++) {
      // A file change, with the refresh a webhook or `ferry refresh` would trigger.
      let greeting = await commitGreeting();
      let start = performance.now();
      await agent.refresh();
      await untilServes(port, greeting);
      triggeredFile.push(performance.now() - start);

      // A service change: the process is replaced and must pass its health check.
      const release = `${100 + i}`;
      await repo.commit({ "apps/web/service.yaml": files["apps/web/service.yaml"]?.replace('RELEASE: "1"', `RELEASE: "${release}"`) ?? "" }, `release ${release}`);
      start = performance.now();
      await agent.refresh();
      await untilServes(port, `release ${release},`);
      triggeredService.push(performance.now() - start);

      // No trigger: the poller finds the commit.
      greeting = await commitGreeting();
      start = performance.now();
      await untilServes(port, greeting);
      polled.push(performance.now() - start);
    }

    const rows: [string, number[]][] = [
      ["git ls-remote (baseline)", baseline.lsRemote],
      ["git fetch --depth=1 (baseline)", baseline.fetch],
      ["commit -> answering, file change, refresh triggered", triggeredFile],
      ["commit -> answering, service replaced, refresh triggered", triggeredService],
      [`commit -> answering, file change, polling every ${POLL_MS} ms`, polled],
    ];
    const gitCost = median(baseline.lsRemote) + median(baseline.fetch);
    console.log(`\ncommit-to-running (${ROUNDS} rounds, node ${process.version})\n`);
    console.log(`${"case".padEnd(60)} ${"median ms".padStart(10)} ${"min".padStart(8)} ${"max".padStart(8)} ${"x git".padStart(7)}`);
    for (const [name, samples] of rows) {
      const ratio = median(samples) / gitCost;
      console.log(`${name.padEnd(60)} ${median(samples).toFixed(1).padStart(10)} ${Math.min(...samples).toFixed(1).padStart(8)} ${Math.max(...samples).toFixed(1).padStart(8)} ${ratio.toFixed(2).padStart(7)}`);
    }
    console.log(`\n"x git" is the median over the cost of one ls-remote plus one shallow fetch (${gitCost.toFixed(1)} ms), measured in this run.`);
    console.log(`aim: a triggered one-service change answers within 1000 ms of the commit: ${median(triggeredService) <= 1000 && median(triggeredFile) <= 1000 ? "met" : "NOT met"}`);
  } finally {
    await agent.stop();
    const host = createHostTarget({ root, stateDir: join(state, "host") });
    await host.stopAll();
    await host.close();
    await rm(work, { recursive: true, force: true });
    await repo.remove();
  }
}





await main();
