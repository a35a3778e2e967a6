// Promotion end to end on the host target: a version published into a local
// artifact directory moves dev -> acc -> prd through Git, each step a commit
// and an entry in the history, gated by a smoke test and a person's approval;
// a version whose smoke test fails in dev never reaches acc or prd.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import type { HistoryEntry, Page } from "../../src/history/types.js";
import type { PipelineView } from "../../src/promote/pipeline-view.js";
import { freePort, httpGet, outputOf, Scenario } from "./harness.js";
import type { Environment } from "./promotion-fixtures.js";
import { digestOf, environmentOf, ENVIRONMENTS, pipelineStatus, promotionRepository, publish } from "./promotion-fixtures.js";

const SLOW_MS = 90_000;

test("a version moves dev -> acc -> prd through Git; a version whose smoke test fails stops in dev", { timeout: 400_000 }, async (t) => {
  const s = await Scenario.create();
  t.after(() => s.cleanup());
  const artifacts = join(s.dir, "artifacts");
  const ports = { dev: await freePort(), acc: await freePort(), prd: await freePort() } as Record<Environment, number>;
  const answer = async (env: Environment): Promise<string | undefined> => (await httpGet(ports[env]))?.trim();
  const pipeline = (): Promise<PipelineView> => pipelineStatus(s);
  const env = (view: PipelineView, name: Environment) => environmentOf(view, name);
  const waitForPhase = async (name: Environment, phase: string, version: string): Promise<PipelineView> => {
    let last: PipelineView | undefined;
    return s.waitFor(
      `${name} to be ${phase} with ${version}`,
      async () => {
        last = await pipeline();
        return last.promotion?.version === version && env(last, name).phase === phase ? last : undefined;
      },
      () => JSON.stringify(last, null, 1),
      SLOW_MS,
    );
  };

  // Version 1 runs everywhere.
  await publish(artifacts, "1.0.0");
  await s.commit("web 1.0.0 in dev, acc and prd, and a pipeline to promote it", promotionRepository(ports, artifacts, "1.0.0", digestOf(artifacts, "1.0.0")));
  s.startAgent({ interval: "500ms" });
  for (const name of ENVIRONMENTS) await s.waitForReady(`web-${name}`);
  for (const name of ENVIRONMENTS) assert.equal(await answer(name), `version=1.0.0 env=${name}`);
  const idle = await pipeline();
  assert.deepEqual(
    idle.environments.map((e) => [e.environment, e.version]),
    ENVIRONMENTS.map((e) => [e, "1.0.0"]),
  );
  const head1 = await s.head();

  // Version 2.0.0 is published; the watcher finds it and writes it into dev: dev updated, its smoke test passes, acc follows on its own.
  await publish(artifacts, "2.0.0");
  await s.waitForHttp(ports.dev, (b) => b.startsWith("version=2.0.0 "), "dev to serve version 2.0.0");
  await s.waitForHttp(ports.acc, (b) => b.startsWith("version=2.0.0 "), "acc to serve version 2.0.0");
  // prd waits for a person.
  const waiting = await waitForPhase("prd", "AwaitingApproval", "2.0.0");
  assert.equal(env(waiting, "dev").phase, "Passed");
  assert.equal(env(waiting, "acc").phase, "Passed");
  assert.deepEqual(env(waiting, "prd").gates.find((g) => g.gate === "approval")?.state, "waiting");
  assert.match(waiting.summary, /prd waits for approval/);
  assert.match(s.agent.output, /pipeline web: 2\.0\.0 waiting for approval: ferry approve web --env prd/);
  assert.equal(await answer("prd"), "version=1.0.0 env=prd");
  // The application says what waits on it, with the command.
  const prdStatus = await s.status("web-prd");
  assert.deepEqual([prdStatus.promotion?.pipeline, prdStatus.promotion?.version, prdStatus.promotion?.phase], ["web", "2.0.0", "AwaitingApproval"]);
  assert.match((await s.ferry("status", "web-prd")).stdout, /Promotion: {3}web 2\.0\.0 into prd since .*: waiting for approval: ferry approve web --env prd/);
  // A manual promotion does not skip the approval.
  const skipped = await s.ferry("promote", "web", "--to", "prd");
  assert.equal(skipped.code, 2, outputOf(skipped));
  assert.match(outputOf(skipped), /needs an approval: ferry approve web --env prd/);

  const approved = await s.ferry("approve", "web", "--env", "prd");
  assert.equal(approved.code, 0, outputOf(approved));
  await s.waitForHttp(ports.prd, (b) => b.startsWith("version=2.0.0 "), "prd to serve version 2.0.0");
  const done = await s.waitFor("the promotion of 2.0.0 to succeed", async () => ((await pipeline()).promotion?.outcome === "Succeeded" ? pipeline() : undefined), undefined, SLOW_MS);
  assert.deepEqual(
    done.environments.map((e) => [e.environment, e.version, e.phase]),
    ENVIRONMENTS.map((e) => [e, "2.0.0", "Passed"]),
  );
  assert.match(env(done, "prd").approvedBy ?? "", /.+/);

  // Each step is a commit in Git, saying what went from where to where.
  const log = (await s.git("log", "--format=%s", `${head1}..HEAD`)).trim().split("\n").reverse();
  assert.deepEqual(log, ["Promote web 2.0.0 into dev", "Promote web 2.0.0 from dev to acc", "Promote web 2.0.0 from acc to prd"]);
  const prdCommit = (await s.git("log", "-1", "--format=%B", "HEAD")).trim();
  assert.match(prdCommit, /Ferry-Promotion-Version: 2.0.0\nFerry-Promotion-From: acc\nFerry-Promotion-To: prd/);
  // The version, its tarball and digest move together.
  const values = env(done, "prd").values ?? {};
  assert.deepEqual(values, { version: "2.0.0", url: join(artifacts, "web-2.0.0.tar.gz"), digest: digestOf(artifacts, "2.0.0") });
  // Written in place: only the marked values changed, comments and layout kept.
  const diff = await s.git("diff", "--unified=0", `${head1}..HEAD`, "--", "apps/web/envs/prd/web.yaml");
  assert.deepEqual(
    diff.split("\n").filter((l) => /^[-+] /.test(l)),
    [
      '-    app.kubernetes.io/version: "1.0.0" # ferry:set web:version',
      '+    app.kubernetes.io/version: "2.0.0" # ferry:set web:version',
      `-    url: ${artifacts}/web-1.0.0.tar.gz # ferry:set web:url`,
      `-    digest: ${digestOf(artifacts, "1.0.0")}   # ferry:set web:digest`,
      `+    url: ${artifacts}/web-2.0.0.tar.gz # ferry:set web:url`,
      `+    digest: ${digestOf(artifacts, "2.0.0")}   # ferry:set web:digest`,
      '-    VERSION: "1.0.0"   # ferry:set web:version',
      '+    VERSION: "2.0.0"   # ferry:set web:version',
      '-    VERSION: "1.0.0" # ferry:set web:version',
      '+    VERSION: "2.0.0" # ferry:set web:version',
    ],
  );

  // And an entry in the history.
  const history = await s.ferry("history", "--type", "Promotion,Approval", "-o", "json");
  assert.equal(history.code, 0, outputOf(history));
  const entries = (JSON.parse(history.stdout) as Page<HistoryEntry>).items;
  assert.deepEqual(
    entries.map((e) => [e.type, e.environment, e.versions?.join(","), e.outcome]).reverse(),
    [
      ["Promotion", "dev", "2.0.0", "Succeeded"],
      ["Promotion", "acc", "2.0.0", "Succeeded"],
      ["Approval", "prd", "2.0.0", "Succeeded"],
      ["Promotion", "prd", "2.0.0", "Succeeded"],
    ],
  );
  const deployments = await s.ferry("history", "--version", "2.0.0", "-o", "json");
  assert.equal(deployments.code, 0, outputOf(deployments));
  for (const name of ENVIRONMENTS) assert.match(deployments.stdout, new RegExp(`"environment": "${name}"`));

  // Version 3.0.0 is broken: healthy, but its smoke test fails in dev. acc and prd never see it.
  const head2 = await s.head();
  await publish(artifacts, "3.0.0", true);
  const stopped = await waitForPhase("dev", "Failed", "3.0.0");
  assert.equal(env(stopped, "dev").reason, "VerificationFailed");
  assert.match(env(stopped, "dev").message ?? "", /smoke test job smoke-dev failed in dev: exited with code 1/);
  assert.equal(env(stopped, "acc").phase, "Waiting");
  assert.equal(env(stopped, "prd").phase, "Waiting");
  assert.equal(stopped.promotion?.outcome, "Failed");
  assert.match(stopped.summary, /3\.0\.0 stopped in dev: smoke test job smoke-dev failed/);
  assert.match(stopped.summary, /acc, prd will not get it/);
  // People read the same in text, and the exit code says it failed.
  const text = await s.ferry("pipeline", "status", "web");
  assert.equal(text.code, 1, outputOf(text));
  assert.match(text.stdout, /dev \(web-dev\): version 3\.0\.0 {2}Failed \[VerificationFailed\]/);
  assert.match(text.stdout, /verify FAILED \(job smoke-dev/);
  // acc can not be promoted past the failed gate by hand either.
  const forced = await s.ferry("promote", "web", "--to", "acc");
  assert.equal(forced.code, 2, outputOf(forced));
  assert.match(outputOf(forced), /has not passed dev \(Failed: smoke test job smoke-dev failed/);
  assert.deepEqual((await s.git("log", "--format=%s", `${head2}..HEAD`)).trim().split("\n"), ["Promote web 3.0.0 into dev"]);
  assert.equal(stopped.promotion?.startedBy, "watch");
  assert.equal(await answer("acc"), "version=2.0.0 env=acc");
  assert.equal(await answer("prd"), "version=2.0.0 env=prd");
  const gates = await s.ferry("history", "--type", "PromotionGate", "--env", "dev", "--outcome", "Failed", "-o", "json");
  const failedGate = (JSON.parse(gates.stdout) as Page<HistoryEntry>).items[0];
  assert.equal(failedGate?.reason, "VerificationFailed");
  assert.deepEqual(failedGate?.versions, ["3.0.0"]);

  // A version that does not exist: refused when nothing says where it is; stopped in dev when its artifact is not there.
  const missing = await s.ferry("promote", "web", "--to", "dev", "--version", "9.9.9");
  assert.equal(missing.code, 2, outputOf(missing));
  assert.match(outputOf(missing), /dev marks digest, url besides the version, and nothing says what they are for 9.9.9; the watcher's newest is 3.0.0: give them with --set digest=\.\.\. --set url=\.\.\./);
  const absent = await s.ferry("promote", "web", "--to", "dev", "--version", "9.9.9", "--set", `url=${join(artifacts, "web-9.9.9.tar.gz")}`, "--set", `digest=sha256:${"0".repeat(64)}`);
  assert.equal(absent.code, 0, outputOf(absent));
  const notFound = await waitForPhase("dev", "Failed", "9.9.9");
  assert.equal(env(notFound, "dev").reason, "SyncFailed");
  assert.match(env(notFound, "dev").message ?? "", /dev \(web-dev\) failed to sync the new version: .*web-9\.9\.9\.tar\.gz/);
  // A digest that does not match the artifact: stopped in dev, and what ran keeps running.
  const wrong = await s.ferry("promote", "web", "--to", "dev", "--version", "2.0.1", "--set", `url=${join(artifacts, "web-2.0.0.tar.gz")}`, "--set", `digest=sha256:${"1".repeat(64)}`);
  assert.equal(wrong.code, 0, outputOf(wrong));
  const mismatch = await waitForPhase("dev", "Failed", "2.0.1");
  const devStatus = await s.status("web-dev");
  assert.match(env(mismatch, "dev").message ?? "", /digest/i, JSON.stringify({ view: env(mismatch, "dev"), lastSync: devStatus.lastSync, health: devStatus.health }));
  assert.equal(env(mismatch, "acc").phase, "Waiting");
  assert.equal(await answer("acc"), "version=2.0.0 env=acc");

  // The metrics count each step's outcome and time it.
  const info = JSON.parse(await readFile(join(s.state, "agent.json"), "utf8")) as { url: string; token: string };
  const metrics = await (await fetch(`${info.url}/metrics`, { headers: { authorization: `Bearer ${info.token}` } })).text();
  assert.match(metrics, /ferry_promotions_total\{pipeline="web",environment="prd",outcome="Succeeded"\} 1/);
  assert.match(metrics, /ferry_promotions_total\{pipeline="web",environment="dev",outcome="Failed"\} 3/);
  assert.match(metrics, /ferry_promotion_duration_seconds_count\{pipeline="web",environment="acc"\} 1/);
});
