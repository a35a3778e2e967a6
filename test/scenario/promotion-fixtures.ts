/**
 * A repository with one service in three environments (dev, acc, prd) and a
 * Pipeline that moves its version through them, and an artifact directory
 * outside the repository where versions of the service are published.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import assert from "node:assert/strict";
import type { PipelineView } from "../../src/promote/pipeline-view.js";
import type { Scenario } from "./harness.js";
import { outputOf } from "./harness.js";

/** The environments, in promotion order. */
export const ENVIRONMENTS = ["dev", "acc", "prd"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** The smoke test: asks the service's front page and fails unless it answers 200 with its version. */
const SMOKE = `const res = await fetch("http://127.0.0.1:" + process.env.PORT + "/", { signal: AbortSignal.timeout(5000) }).catch((e) => ({ status: 0, text: async () => String(e) }));
const body = await res.text();
if (res.status !== 200 || !body.includes("version=" + process.env.VERSION)) {
  console.error("smoke test failed: " + res.status + " " + body);
  process.exit(1);
}
console.log("smoke test passed: " + body.trim());
`;

/**
 * Version `version` of the service: answers `version=<v> env=<env>` on `/`, and
 * `ok` on /healthz. A broken build still passes its health check but answers
 * 500 on `/`: only a smoke test finds it.
 */
export function serverScript(version: string, broken = false): string {
  return `import { createServer } from "node:http";
createServer((req, res) => {
  if (req.url === "/healthz") return void res.end("ok\\n");
  ${broken ? 'res.statusCode = 500; return void res.end("internal error\\n");' : ""}
  res.end("version=${version} env=" + process.env.ENV_NAME + "\\n");
}).listen(Number(process.env.PORT), "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
`;
}

/**
 * Publishes a version into the artifact directory, as a CI job would: a
 * tarball web-<v>.tar.gz, which the pipeline's directory watcher finds and the
 * host target runs (spec.artifact).
 */
export async function publish(artifacts: string, version: string, broken = false): Promise<void> {
  const build = join(artifacts, ".build", version);
  await mkdir(build, { recursive: true });
  await writeFile(join(build, "server.mjs"), serverScript(version, broken));
  // Written under a hidden name and renamed, so the watcher never sees half a tarball.
  execFileSync("tar", ["-czf", join(artifacts, `.web-${version}.tar.gz`), "-C", build, "server.mjs"]);
  await rename(join(artifacts, `.web-${version}.tar.gz`), join(artifacts, `web-${version}.tar.gz`));
}

/** The manifests of one environment: its Service, running the artifact, and a smoke-test Job run after it (wave 1). The version, the artifact's URL and digest are marked for the pipeline. */
export function environmentFiles(env: Environment, port: number, artifacts: string, version: string, digest: string): Record<string, string> {
  const dir = `apps/web/envs/${env}`;
  const service = `# web in ${env}: the version is written by the pipeline
apiVersion: host.ferry.dev/v1
kind: Service
metadata:
  name: web-${env}
  labels:
    app.kubernetes.io/version: "${version}" # ferry:set web:version
spec:
  artifact:
    url: ${artifacts}/web-${version}.tar.gz # ferry:set web:url
    digest: ${digest}   # ferry:set web:digest
  command: node
  args: [server.mjs]
  env:
    PORT: "${port}"
    ENV_NAME: ${env}
    VERSION: "${version}"   # ferry:set web:version
  healthCheck:
    http:
      url: http://127.0.0.1:${port}/healthz
    intervalSeconds: 0.2
  restart:
    backoffSeconds: 0.2
  stop:
    gracePeriodSeconds: 5
---
apiVersion: host.ferry.dev/v1
kind: Job
metadata:
  name: smoke-${env}
  annotations:
    ferry.dev/wave: "1"
spec:
  command: node
  args: [smoke.mjs]
  workingDir: web-${env}
  timeoutSeconds: 20
  env:
    PORT: "${port}"
    VERSION: "${version}" # ferry:set web:version
`;
  const files = `apiVersion: host.ferry.dev/v1
kind: File
metadata:
  name: web-${env}-smoke
spec:
  path: web-${env}/smoke.mjs
  contentFrom: ../../smoke.mjs
`;
  return { [`${dir}/web.yaml`]: service, [`${dir}/files.yaml`]: files };
}

/** The sha256 of a published version's tarball, as the directory watcher reports it. */
export function digestOf(artifacts: string, version: string): string {
  return "sha256:" + createHash("sha256").update(readFileSync(join(artifacts, `web-${version}.tar.gz`))).digest("hex");
}

/** The whole repository at version `version` everywhere: Applications, the Pipeline, the smoke test, and each environment. */
export function promotionRepository(ports: Readonly<Record<Environment, number>>, artifacts: string, version: string, digest: string): Record<string, string> {
  const applications = ENVIRONMENTS.map(
    (env) => `apiVersion: ferry.dev/v1
kind: Application
metadata:
  name: web-${env}
spec:
  source:
    path: apps/web/envs/${env}
  environment: ${env}
`,
  ).join("---\n");
  const pipeline = `apiVersion: ferry.dev/v1
kind: Pipeline
metadata:
  name: web
spec:
  watch:
    type: directory
    path: ${artifacts}
    pattern: web-{version}.tar.gz
    interval: 1s
  environments:
    - name: dev
      verify: {job: smoke-dev, timeout: 60s}
    - name: acc
      verify: {job: smoke-acc, timeout: 60s}
    - name: prd
      approval: true
      verify: {http: [{url: "http://127.0.0.1:${ports.prd}/", status: 200, body: "env=prd"}], timeout: 60s}
  write:
    minInterval: 1s
`;
  return {
    "ferry/applications.yaml": applications,
    "ferry/pipeline.yaml": pipeline,
    "apps/web/smoke.mjs": SMOKE,
    ...Object.assign({}, ...ENVIRONMENTS.map((env) => environmentFiles(env, ports[env], artifacts, version, digest))),
  } as Record<string, string>;
}

/** `ferry pipeline status <pipeline> -o json`, parsed (exit 0 or 1: a failed or waiting promotion is still data). */
export async function pipelineStatus(s: Scenario, pipeline = "web"): Promise<PipelineView> {
  const result = await s.ferry("pipeline", "status", pipeline, "-o", "json");
  assert.ok(result.code === 0 || result.code === 1, outputOf(result));
  return JSON.parse(result.stdout) as PipelineView;
}

/** The view of one environment of a pipeline's status; fails when it is not there. */
export function environmentOf(view: PipelineView, name: string): PipelineView["environments"][number] {
  const found = view.environments.find((e) => e.environment === name);
  assert.ok(found, `no ${name} in ${JSON.stringify(view)}`);
  return found;
}
