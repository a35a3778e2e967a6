// A gate judges the version it gates: the smoke test below never changes with
// the version (nothing in it is marked for the pipeline), yet every promotion
// step runs it again for that version, after the version synced and became
// healthy, and a broken version stops in dev. A rollback's hold shows at once,
// and the rollback commit names the person as git would.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import type { HistoryEntry, Page } from "../../src/history/types.js";
import type { PipelineView } from "../../src/promote/pipeline-view.js";
import { freePort, outputOf, scaled, Scenario } from "./harness.js";
import { digestOf, environmentOf, pipelineStatus, publish } from "./promotion-fixtures.js";

const ENVIRONMENTS = ["dev", "acc"] as const;
type Environment = (typeof ENVIRONMENTS)[number];

/** The smoke test: the front page answers 200, with the version the gate runs it for (FERRY_VERSION) when there is one. */
const SMOKE = `const res = await fetch("http://127.0.0.1:" + process.env.PORT + "/", { signal: AbortSignal.timeout(5000) }).catch((e) => ({ status: 0, text: async () => String(e) }));
const body = await res.text();
const version = process.env.FERRY_VERSION;
if (res.status !== 200 || (version !== undefined && !body.includes("version=" + version + " "))) {
  console.error("smoke test failed for " + version + ": " + res.status + " " + body.trim());
  process.exit(1);
}
console.log("smoke test passed for " + version + ": " + body.trim());
`;

function environmentYaml(env: Environment, port: number, artifacts: string, version: string, digest: string): string {
  return `apiVersion: host.ferry.dev/v1
kind: Service
metadata:
  name: web-${env}
  labels:
    app.kubernetes.io/version: "${version}" # ferry:set web:version
spec:
  artifact:
    url: ${artifacts}/web-${version}.tar.gz # ferry:set web:url
    digest: ${digest} # ferry:set web:digest
  command: node
  args: [server.mjs]
  env: {PORT: "${port}", ENV_NAME: ${env}}
  healthCheck:
    http: {url: "http://127.0.0.1:${port}/healthz"}
    intervalSeconds: 0.2
---
apiVersion: host.ferry.dev/v1
kind: Job
metadata:
  name: smoke-${env}
  annotations: {ferry.dev/wave: "1"}
spec:
  command: node
  args: [smoke.mjs]
  workingDir: smoke-${env}
  timeoutSeconds: 20
  env: {PORT: "${port}"}
---
apiVersion: host.ferry.dev/v1
kind: File
metadata:
  name: smoke-${env}
spec:
  path: smoke-${env}/smoke.mjs
  contentFrom: ../smoke.mjs
`;
}

function repository(ports: Readonly<Record<Environment, number>>, artifacts: string, digest: string): Record<string, string> {
  const applications = ENVIRONMENTS.map((env) => `apiVersion: ferry.dev/v1\nkind: Application\nmetadata:\n  name: web-${env}\nspec:\n  source:\n    path: apps/web/${env}\n  environment: ${env}\n`).join("---\n");
  const pipeline = `apiVersion: ferry.dev/v1
kind: Pipeline
metadata:
  name: web
spec:
  watch: {type: directory, path: ${artifacts}, pattern: "web-{version}.tar.gz", interval: 1s}
  environments:
    - name: dev
      verify: {job: smoke-dev, timeout: 60s}
    - name: acc
      verify: {job: smoke-acc, timeout: 60s}
  write: {minInterval: 1s}
`;
  return {
    "ferry/applications.yaml": applications,
    "ferry/pipeline.yaml": pipeline,
    "apps/web/smoke.mjs": SMOKE,
    ...Object.fromEntries(ENVIRONMENTS.map((env) => [`apps/web/${env}/web.yaml`, environmentYaml(env, ports[env], artifacts, "1.0.0", digest)])),
  };
}

test("a smoke test that does not change with the version runs for each version; a broken version stops in dev; a rollback's hold shows at once", { timeout: scaled(180_000) }, async (t) => {
  const s = await Scenario.create();
  t.after(() => s.cleanup());
  const artifacts = join(s.dir, "artifacts");
  const ports = { dev: await freePort(), acc: await freePort() };
  const pipeline = (): Promise<PipelineView> => pipelineStatus(s);
  const env = (view: PipelineView, name: Environment) => environmentOf(view, name);
  /** Waits until the promotion of `version` ended (passed everywhere, or stopped). */
  const finished = async (version: string): Promise<PipelineView> => {
    let last: PipelineView | undefined;
    return s.waitFor(
      `the promotion of ${version} to end`,
      async () => {
        last = await pipeline();
        return last.promotion?.version === version && last.promotion.outcome !== undefined ? last : undefined;
      },
      () => JSON.stringify(last, null, 1),
      scaled(60_000),
    );
  };

  await publish(artifacts, "1.0.0");
  await s.commit("web 1.0.0 in dev and acc", repository(ports, artifacts, digestOf(artifacts, "1.0.0")));
  s.startAgent({ interval: "300ms" });
  for (const name of ENVIRONMENTS) await s.waitForReady(`web-${name}`);
  const idle = await pipeline();
  assert.doesNotMatch(idle.summary, /no version discovered yet/, "the version deployed is not 'no version'");
  assert.match(idle.summary, /1\.0\.0/);

  // 2.0.0 works: each environment's smoke test runs for it, after it synced, and passes.
  await publish(artifacts, "2.0.0");
  const passed = await finished("2.0.0");
  assert.equal(passed.promotion?.outcome, "Succeeded", JSON.stringify(passed, null, 1));
  for (const name of ENVIRONMENTS) {
    const run = env(passed, name).verification;
    assert.equal(run?.status, "succeeded", JSON.stringify(env(passed, name)));
    assert.match(run?.runId ?? "", /^2-0-0-[0-9a-f]{6}$/);
    assert.match(run?.output ?? "", /smoke test passed for 2\.0\.0: version=2\.0\.0/);
  }
  const text = await s.ferry("pipeline", "status", "web");
  assert.match(text.stdout, /verify ok \(job smoke-dev, run 2-0-0-[0-9a-f]{6} succeeded/);
  assert.match(s.agent.output, /pipeline web: promoted web 2\.0\.0 into dev/);
  assert.match(s.agent.output, /pipeline web: 2\.0\.0 passed the verify gate of dev/);
  assert.match(s.agent.output, /pipeline web: 2\.0\.0 passed the synced gate of acc/);

  // 3.0.0 is broken (healthy, but its front page fails); its smoke test is the same as before, and still judges it.
  await publish(artifacts, "3.0.0", true);
  const stopped = await finished("3.0.0");
  assert.equal(stopped.promotion?.outcome, "Failed", JSON.stringify(stopped, null, 1));
  assert.equal(env(stopped, "dev").phase, "Failed");
  assert.equal(env(stopped, "dev").reason, "VerificationFailed");
  assert.match(env(stopped, "dev").message ?? "", /smoke test job smoke-dev failed in dev: exited with code 1 \(run 3-0-0-[0-9a-f]{6}\); last output:\n.*smoke test failed for 3\.0\.0: 500/);
  assert.equal(env(stopped, "acc").phase, "Waiting");
  assert.equal(env(stopped, "acc").version, "2.0.0");
  const gates = await s.ferry("history", "--type", "PromotionGate", "--env", "dev", "--outcome", "Failed", "-o", "json");
  const failedGate = (JSON.parse(gates.stdout) as Page<HistoryEntry>).items[0];
  assert.deepEqual(failedGate?.versions, ["3.0.0"]);
  const run = (failedGate?.details as { run?: { id?: string; output?: string } } | undefined)?.run;
  assert.equal(run?.id, env(stopped, "dev").verification?.runId);
  assert.match(run?.output ?? "", /smoke test failed for 3\.0\.0/);

  // acc is rolled back by a person: the commit names them as git would, and the hold shows at once.
  const person = { GIT_AUTHOR_NAME: "Ada Operator", GIT_AUTHOR_EMAIL: "ada@example.test", GIT_COMMITTER_NAME: "Ada Operator", GIT_COMMITTER_EMAIL: "ada@example.test" };
  const rolled = await s.ferryWith(person, "rollback", "web-acc", "--reason", "checkout is slow");
  assert.equal(rolled.code, 0, outputOf(rolled));
  // At once: the first status asked after the rollback returned shows the hold, nothing is waited for.
  const held = await s.status("web-acc");
  assert.ok(held.hold, JSON.stringify(held));
  assert.equal(held.hold?.by, "Ada Operator");
  assert.match(held.hold?.reason ?? "", /rolled back to 1\.0\.0: checkout is slow/);
  assert.match(held.hold?.release ?? "", /ferry release web-acc/);
  const status = await s.ferry("status", "web-acc");
  assert.match(status.stdout, /on hold since .* by Ada Operator: rolled back to 1\.0\.0: checkout is slow \(ferry release web-acc\)/);
  const view = await pipeline();
  assert.equal(env(view, "acc").hold?.by, held.hold?.by);
  assert.match(view.summary, /acc is on hold/);
  const author = (await s.git("log", "-1", "--format=%an <%ae>|%cn <%ce>", "HEAD")).trim();
  assert.equal(author, "Ada Operator <ada@example.test>|Ada Operator <ada@example.test>");
  const rollbacks = await s.ferry("history", "web-acc", "--type", "Rollback", "-o", "json");
  assert.equal((JSON.parse(rollbacks.stdout) as Page<HistoryEntry>).items[0]?.author, "Ada Operator");

  // With no agent running, status still shows the hold, from the history.
  await s.agent.stop();
  const offline = await s.status("web-acc");
  assert.equal(offline.hold?.by, "Ada Operator");
  assert.match(offline.hold?.reason ?? "", /checkout is slow/);
});
