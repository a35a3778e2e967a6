// How fast `ferry validate` checks a large repository: 100 applications of 100
// manifests each (10,000 files), validated in-process a few times, next to a
// baseline measured in the same run: only reading and parsing the same YAML.
// Twice: host-target manifests, then Kubernetes manifests checked against the
// Kubernetes OpenAPI schemas (whose first round also loads and compiles them).
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { loadManifestFiles } from "../src/render/load-files.js";
import { renderPlain } from "../src/render/render-plain.js";
import { validateKubernetesObject } from "../src/targets/kubernetes/kube-validate.js";
import { validateRepository } from "../src/validate/validate-repository.js";
import { median, timed } from "./measure.js";

const APPS = Number(process.env["APPS"] ?? 100);
const PER_APP = Number(process.env["PER_APP"] ?? 100);
const ROUNDS = Number(process.env["ROUNDS"] ?? 5);

type Target = "host" | "kubernetes";

function kubernetesManifest(app: string, i: number): string {
  switch (i % 4) {
    case 0:
      return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${app}-web-${i}
  namespace: ${app}
  labels: {team: bench, app: web-${i}}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web-${i}}
  template:
    metadata:
      labels: {app: web-${i}}
    spec:
      containers:
        - name: web
          image: registry.example.com/web:1.${i}
          ports: [{name: http, containerPort: 8080}]
          env:
            - {name: MODE, value: production}
          resources:
            requests: {cpu: 100m, memory: 64Mi}
            limits: {cpu: "1", memory: 256Mi}
          readinessProbe:
            httpGet: {path: /healthz, port: http}
`;
    case 1:
      return `apiVersion: v1
kind: Service
metadata:
  name: ${app}-web-${i}
  namespace: ${app}
  labels: {team: bench}
spec:
  selector: {app: web-${i - 1}}
  ports: [{port: 80, targetPort: http}]
`;
    case 2:
      return `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${app}-settings-${i}
  namespace: ${app}
  labels: {team: bench}
data:
  LOG_LEVEL: info
  FEATURE_${i}: "on"
`;
    default:
      return `apiVersion: v1
kind: ServiceAccount
metadata:
  name: ${app}-runner-${i}
  namespace: ${app}
  labels: {team: bench}
`;
  }
}

function manifest(app: string, i: number): string {
  if (i % 2 === 0) {
    return `apiVersion: host.ferry.dev/v1
kind: File
metadata:
  name: ${app}-file-${i}
  labels:
    team: bench
spec:
  path: ${app}/file-${i}.txt
  content: |
    line one of file ${i}
    line two
  mode: "0644"
`;
  }
  return `apiVersion: host.ferry.dev/v1
kind: Service
metadata:
  name: ${app}-service-${i}
  labels:
    team: bench
spec:
  command: node
  args: [server.mjs, --port, "${8000 + i}"]
  env:
    GREETING: hello
  workingDir: ${app}
  healthCheck:
    http:
      url: http://127.0.0.1:${8000 + i}/healthz
`;
}

async function generate(dir: string, target: Target): Promise<number> {
  const apps: string[] = [];
  for (let a = 0; a < APPS; a++) {
    const app = `app-${a}`;
    apps.push(`apiVersion: ferry.dev/v1\nkind: Application\nmetadata:\n  name: ${app}\nspec:\n  target: ${target}\n  source:\n    path: apps/${app}\n`);
    await mkdir(join(dir, "apps", app), { recursive: true });
    await Promise.all(Array.from({ length: PER_APP }, (_, i) => writeFile(join(dir, "apps", app, `m-${i}.yaml`), target === "host" ? manifest(app, i) : kubernetesManifest(app, i))));
  }
  await mkdir(join(dir, "ferry"), { recursive: true });
  await writeFile(join(dir, "ferry", "apps.yaml"), apps.join("---\n"));
  await writeFile(
    join(dir, "ferry", "policies.yaml"),
    `apiVersion: ferry.dev/v1\nkind: Policy\nmetadata:\n  name: bench\nspec:\n  rules:\n    - name: team\n      requireLabels: [team]\n    - name: no-shell\n      forbid: {pointer: /spec/command, pattern: "^(sh|bash)$"}\n`,
  );
  return APPS * PER_APP + 2;
}

/** The baseline: read every YAML file and parse it, nothing else. */
async function readAndParse(dir: string): Promise<number> {
  let documents = 0;
  const walk = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.name.endsWith(".yaml")) documents += parseAllDocuments(await readFile(path, "utf8")).length;
    }
  };
  await walk(dir);
  return documents;
}

/** The time of checking every rendered object against the Kubernetes schemas, without reading or parsing. */
async function schemaCheckOnly(dir: string): Promise<number> {
  const objects = renderPlain(await loadManifestFiles(dir, "apps")).objects;
  return timed(async () => {
    let problems = 0;
    for (const object of objects) problems += validateKubernetesObject(object).length;
    if (problems !== 0) throw new Error(`expected no schema problems, found ${problems}`);
  });
}



for (const target of ["host", "kubernetes"] as const) {
  const dir = await mkdtemp(join(tmpdir(), "ferry-bench-validate-"));
  try {
    const files = await generate(dir, target);
    const baseline: number[] = [];
    const validate: number[] = [];
    let problems = 0;
    for (let round = 0; round < ROUNDS; round++) {
      baseline.push(await timed(() => readAndParse(dir)));
      validate.push(
        await timed(async () => {
          problems = (await validateRepository(dir)).problems.length;
        }),
      );
    }
    if (problems !== 0) throw new Error(`the generated ${target} repository should be valid, found ${problems} problems`);
    const v = median(validate);
    const b = median(baseline);
    console.log(`validate, ${target} target: ${files} files (${APPS} applications x ${PER_APP} manifests), ${ROUNDS} rounds, medians`);
    console.log(`  ferry validate        ${v.toFixed(0).padStart(6)} ms  ${Math.round(files / (v / 1000)).toString().padStart(7)} files/s`);
    console.log(`  first round           ${(validate[0] ?? 0).toFixed(0).padStart(6)} ms  (cold: loads modules, and the Kubernetes schemas when used)`);
    console.log(`  read + parse (base)   ${b.toFixed(0).padStart(6)} ms  ${Math.round(files / (b / 1000)).toString().padStart(7)} files/s`);
    console.log(`  validation adds ${(v / b).toFixed(2)}x the time of reading and parsing`);
    if (target === "kubernetes") console.log(`  schema check alone    ${(await schemaCheckOnly(dir)).toFixed(0).padStart(6)} ms  (compiled once, all ${files - 2} objects)`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
