/**
 * The README's promotion layout: one base (a Service that runs a File, its
 * config, a smoke test) and an overlay per environment (dev, acc, prd), each
 * an Application in its own namespace, with a Pipeline between them.
 */

/** The environments, in promotion order. */
export const OVERLAY_ENVIRONMENTS = ["dev", "acc", "prd"] as const;
export type OverlayEnvironment = (typeof OVERLAY_ENVIRONMENTS)[number];

/** The service: answers its version, and its environment's config, read from the file beside it. */
const SERVER = `import { readFileSync } from "node:fs";
import { createServer } from "node:http";
const config = JSON.parse(readFileSync("config.json", "utf8"));
createServer((req, res) => {
  if (req.url === "/healthz") return void res.end("ok\\n");
  res.end("version=" + process.env.VERSION + " env=" + config.env + " greeting=" + config.greeting + "\\n");
}).listen(Number(process.env.PORT), "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
`;

/** The smoke test: the service answers with the version under test. */
const SMOKE = `fetch("http://127.0.0.1:" + process.env.PORT + "/").then((r) => r.text()).then((body) => {
  if (!body.startsWith("version=" + process.env.VERSION + " ")) { console.error("smoke test failed: " + body); process.exit(1); }
  console.log("smoke test passed: " + body.trim());
}, (e) => { console.error(String(e)); process.exit(1); });`;

/** What every environment shares. Paths are the same everywhere here: each overlay moves them into its own folder. */
const BASE = `apiVersion: host.ferry.dev/v1
kind: Service
metadata:
  name: web
spec:
  command: node            # runs in its namespace's folder, <root>/<namespace>, where the Files below are
  args: [server.mjs]
  env:
    PORT: "8080"
    VERSION: "0.0.0"
  healthCheck:
    http: {url: "http://127.0.0.1:8080/healthz"}
    intervalSeconds: 0.2
  restart: {backoffSeconds: 0.2}
---
apiVersion: host.ferry.dev/v1
kind: File
metadata:
  name: server
spec:
  path: server.mjs
  contentFrom: server.mjs
---
apiVersion: host.ferry.dev/v1
kind: File
metadata:
  name: config
spec:
  path: config.json
  content: "{}"
---
apiVersion: host.ferry.dev/v1
kind: Job
metadata:
  name: smoke
  annotations: {ferry.dev/wave: "1"}
spec:
  command: node
  args: [-e, ${JSON.stringify(SMOKE)}]
  timeoutSeconds: 20
  env:
    PORT: "8080"
    VERSION: "0.0.0"
`;

/** One environment's overlay: its own port, folder and config, and the version the pipeline moves. */
function overlay(env: OverlayEnvironment, port: number, version: string): Record<string, string> {
  const dir = `apps/web/envs/${env}`;
  return {
    [`${dir}/ferry-overlay.yaml`]: `apiVersion: ferry.dev/v1
kind: Overlay
spec:
  bases: [../../base]
  commonLabels:
    environment: ${env}
`,
    [`${dir}/web.yaml`]: `apiVersion: host.ferry.dev/v1
kind: Service
metadata:
  name: web
  labels:
    app.kubernetes.io/version: "${version}" # ferry:set web:version
spec:
  env:
    PORT: "${port}"
    VERSION: "${version}" # ferry:set web:version
  healthCheck:
    http: {url: "http://127.0.0.1:${port}/healthz"}
---
apiVersion: host.ferry.dev/v1
kind: Job
metadata:
  name: smoke
spec:
  env:
    PORT: "${port}"
    VERSION: "${version}" # ferry:set web:version
`,
    [`${dir}/files.yaml`]: `# One path has one owner: each environment writes into its namespace's folder.
apiVersion: host.ferry.dev/v1
kind: File
metadata:
  name: server
spec:
  path: ${env}/server.mjs
---
apiVersion: host.ferry.dev/v1
kind: File
metadata:
  name: config
spec:
  path: ${env}/config.json
  content: '{"env": "${env}", "greeting": "hello from ${env}"}'
`,
  };
}

/** The whole repository at `version` in every environment. */
export function overlayRepository(ports: Readonly<Record<OverlayEnvironment, number>>, version: string): Record<string, string> {
  const applications = OVERLAY_ENVIRONMENTS.map(
    (env) => `apiVersion: ferry.dev/v1
kind: Application
metadata:
  name: web-${env}
spec:
  source:
    path: apps/web/envs/${env}
  environment: ${env}
  namespace: ${env}
`,
  ).join("---\n");
  const pipeline = `apiVersion: ferry.dev/v1
kind: Pipeline
metadata:
  name: web
spec:
  environments:
    - name: dev
      verify: {job: smoke, timeout: 60s}
    - name: acc
      verify: {job: smoke, timeout: 60s}
    - name: prd
      verify: {http: [{url: "http://127.0.0.1:${ports.prd}/", status: 200, body: "env=prd"}], timeout: 60s}
  write:
    minInterval: 1s
`;
  return {
    "ferry/applications.yaml": applications,
    "ferry/pipeline.yaml": pipeline,
    "apps/web/base/web.yaml": BASE,
    "apps/web/base/server.mjs": SERVER,
    ...Object.assign({}, ...OVERLAY_ENVIRONMENTS.map((env) => overlay(env, ports[env], version))),
  } as Record<string, string>;
}
