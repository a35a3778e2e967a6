import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { FerryError } from "../core/errors.js";
import { formatProblem } from "../core/errors.js";
import { TestRepository } from "../../test/support/test-repository.js";
import { validateRepository } from "../validate/validate-repository.js";
import { NAME_RULE } from "./names.js";
import { RenderCache, renderSource } from "./render-source.js";
import { findExecutable } from "./tools/find-tool.js";
import { helmChunks } from "./tools/helm.js";
import { kustomizeInputs } from "./tools/kustomize.js";

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

async function writeFiles(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
}

/** An executable shell script in a temporary directory. */
async function script(body: string): Promise<string> {
  const path = join(await tempDir("ferry-tool-"), "tool.sh");
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

const BASE = {
  "apps/base/kustomization.yaml": "resources: [deployment.yaml]\n",
  "apps/base/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - {name: web, image: "nginx:1.27"}
`,
  // bases and patchesStrategicMerge: read by every kustomize, from the one in Debian's kubectl 1.20 to v5.
  "apps/prd/kustomization.yaml": "bases: [../base]\nnamePrefix: prd-\npatchesStrategicMerge:\n  - replicas.yaml\n",
  "apps/prd/replicas.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n",
};

/** kustomize, else kubectl: the tool `renderSource` would pick, or undefined when neither is installed. */
const kustomizeTool = (await findExecutable(["kustomize"])) ?? (await findExecutable(["kubectl"]));
const noKustomize = kustomizeTool ? false : "neither kustomize nor kubectl is installed (install kustomize, or kubectl)";
const helmTool = await findExecutable(["helm"]);
const noHelm = helmTool ? false : "helm is not installed (install helm 3)";

describe("renderSource with kustomize", { skip: noKustomize }, () => {
  let counter: string;
  let wrapper: string;
  before(async () => {
    // A kustomize that counts its runs, then runs the real tool.
    counter = join(await tempDir("ferry-count-"), "runs");
    const real = kustomizeTool ?? "";
    const run = real.endsWith("kustomize") ? `exec "${real}" build "$@"` : `exec "${real}" kustomize "$@"`;
    wrapper = await script(`echo run >> "${counter}"\nshift\n${run}`);
  });
  const runs = async (): Promise<number> => (await readFile(counter, "utf8").catch(() => "")).split("\n").filter(Boolean).length;

  it("renders an overlay over its base, attributing objects to the kustomization", async () => {
    const root = await tempDir("ferry-kustomize-");
    await writeFiles(root, BASE);
    const result = await renderSource(root, "apps/prd", { cache: new RenderCache() });
    assert.equal(result.renderer, "kustomize");
    assert.deepStrictEqual(result.problems, []);
    assert.deepStrictEqual(result.objects.map((o) => [o.key, o.origin.file, o.origin.line, o.manifest["spec"] && (o.manifest["spec"] as { replicas?: number }).replicas]), [
      ["apps/Deployment//prd-web", "apps/prd/kustomization.yaml", 1, 3],
    ]);
  });

  it("runs the tool once for two commits that differ elsewhere, and again when a base changes", async () => {
    const repo = await TestRepository.create();
    dirs.push(repo.directory);
    const first = await repo.commit({ ...BASE, "README.md": "one\n", "apps/other/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n" });
    const second = await repo.commit({ "README.md": "two\n", "apps/other/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n" });
    const third = await repo.commit({ "apps/base/deployment.yaml": BASE["apps/base/deployment.yaml"].replace("nginx:1.27", "nginx:1.28") });
    // Each commit checked out in its own directory, as the source stage does.
    const checkout = async (commit: string): Promise<string> => {
      const dir = await tempDir("ferry-checkout-");
      execFileSync("sh", ["-c", `git -C "${repo.directory}" archive ${commit} | tar -x -C "${dir}"`]);
      return dir;
    };
    const cache = new RenderCache();
    const options = { cache, tools: { kustomize: wrapper } };
    const a = await renderSource(await checkout(first), "apps/prd", options);
    const b = await renderSource(await checkout(second), "apps/prd", options);
    assert.equal(await runs(), 1, "the second commit changed nothing the kustomization reads");
    assert.deepStrictEqual([a.cached, b.cached], [false, true]);
    assert.deepStrictEqual(b.objects, a.objects);
    const c = await renderSource(await checkout(third), "apps/prd", options);
    assert.equal(await runs(), 2, "a change in the base renders again");
    assert.equal(c.cached, false);
    assert.match(JSON.stringify(c.objects[0]?.manifest), /nginx:1\.28/);
  });

  it("names the directory and keeps the tool's message when kustomize fails", async () => {
    const root = await tempDir("ferry-kustomize-");
    await writeFiles(root, { "apps/web/kustomization.yaml": "resources: [missing.yaml]\n" });
    await assert.rejects(renderSource(root, "apps/web", { cache: new RenderCache() }), (error: FerryError) => {
      assert.equal(error.disposition, "stalled");
      assert.equal(error.reason, "RenderToolFailed");
      assert.match(error.message, /^kustomize build apps\/web failed: .*missing\.yaml/);
      return true;
    });
  });

  it("reports objects kustomize printed without a name, at the kustomization", async () => {
    const root = await tempDir("ferry-kustomize-");
    await writeFiles(root, { "apps/web/kustomization.yaml": "resources: [cm.yaml]\n", "apps/web/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Not_Valid\n" });
    const result = await renderSource(root, "apps/web", { cache: new RenderCache() });
    assert.deepStrictEqual(result.problems.map(formatProblem), [
      `apps/web/kustomization.yaml:1:1: metadata.name: in the output of kustomize build apps/web: "Not_Valid" is not a valid name: use ${NAME_RULE}`,
    ]);
  });

  it("is used by ferry validate, whose schema check sees the rendered objects", async () => {
    const root = await tempDir("ferry-validate-kustomize-");
    await writeFiles(root, {
      ...BASE,
      "apps/prd/replicas.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicass: 3\n",
      "ferry/apps.yaml": "apiVersion: ferry.dev/v1\nkind: Application\nmetadata:\n  name: web\nspec:\n  target: kubernetes\n  source:\n    path: apps/prd\n",
    });
    const report = await validateRepository(root, { render: { cache: new RenderCache() } });
    assert.deepStrictEqual(report.problems.map(formatProblem), ['apps/prd/kustomization.yaml:1:1: spec.replicass: unknown field "replicass" (did you mean "replicas"?)']);
  });
});

describe("renderSource with tools that misbehave", () => {
  it("says what to install when the tool is missing", async () => {
    const root = await tempDir("ferry-kustomize-");
    await writeFiles(root, { "apps/web/kustomization.yaml": "resources: []\n", "apps/chart/Chart.yaml": "apiVersion: v2\nname: chart\nversion: 0.1.0\n" });
    await assert.rejects(renderSource(root, "apps/web", { tools: { kustomize: "/nonexistent/kustomize" } }), (error: FerryError) => {
      assert.equal(error.reason, "RenderToolMissing");
      assert.match(error.message, /^kustomize build apps\/web: \/nonexistent\/kustomize is not installed: install kustomize, or kubectl/);
      return true;
    });
    await assert.rejects(renderSource(root, "apps/chart", { tools: { helm: "/nonexistent/helm" } }), /helm template apps\/chart: \/nonexistent\/helm is not installed: install helm 3/);
    assert.equal(await findExecutable(["kustomize", "kubectl", "helm"], ""), undefined);
  });

  it("stops a tool that runs too long (retried later) or prints too much", async () => {
    const root = await tempDir("ferry-kustomize-");
    await writeFiles(root, { "apps/web/kustomization.yaml": "resources: []\n" });
    const slow = await script("exec sleep 30");
    await assert.rejects(renderSource(root, "apps/web", { cache: new RenderCache(), tools: { kustomize: slow, timeoutMs: 500 } }), (error: FerryError) => {
      assert.equal(error.disposition, "transient");
      assert.match(error.message, /^kustomize build apps\/web: did not finish within 1s/);
      return true;
    });
    const loud = await script("exec yes 'a: b'");
    await assert.rejects(
      renderSource(root, "apps/web", { cache: new RenderCache(), tools: { kustomize: loud, maxOutputBytes: 1024 * 1024 } }),
      /kustomize build apps\/web: output exceeds 1 MiB/,
    );
  });

  it("renders plain and overlay directories as before", async () => {
    const root = await tempDir("ferry-plain-");
    await writeFiles(root, { "apps/web/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n" });
    const result = await renderSource(root, "apps/web");
    assert.equal(result.renderer, "plain");
    assert.deepStrictEqual(result.objects.map((o) => `${o.key} ${o.origin.file}:${o.origin.line}`), ["/ConfigMap//web apps/web/cm.yaml:1"]);
  });
});

describe("kustomizeInputs", () => {
  it("follows bases and files outside the directory, and flags remote ones", async () => {
    const root = await tempDir("ferry-kustomize-");
    await writeFiles(root, {
      ...BASE,
      "apps/prd/kustomization.yaml": "resources: [../base, https://github.com/example/repo//deploy?ref=v1]\nconfigMapGenerator:\n  - name: c\n    files: [conf=../shared/app.conf]\n",
      "apps/shared/app.conf": "x=1\n",
    });
    assert.deepStrictEqual(await kustomizeInputs(root, "apps/prd"), {
      inputs: { directories: ["apps/base", "apps/prd"], files: ["apps/shared/app.conf"] },
      remote: true,
    });
  });

  it("flags generators and transformers, whose configurations may read files the kustomization does not name", async () => {
    const root = await tempDir("ferry-kustomize-");
    await writeFiles(root, {
      ...BASE,
      "apps/prd/kustomization.yaml": "resources: [../base]\ntransformers: [labels.yaml]\n",
      "apps/prd/labels.yaml": "apiVersion: builtin\nkind: LabelTransformer\nmetadata:\n  name: l\nlabels:\n  env: prd\nfieldSpecs:\n  - path: metadata/labels\n    create: true\n",
    });
    assert.deepStrictEqual(await kustomizeInputs(root, "apps/prd"), {
      inputs: { directories: ["apps/base", "apps/prd"], files: [] },
      remote: false,
      generators: true,
    });
  });
});

describe("renderSource inputs", () => {
  it("records the directories a plain or overlay render read: its own and its bases'", async () => {
    const root = await tempDir("ferry-inputs-");
    await writeFiles(root, {
      "base/web.yaml": "apiVersion: test.ferry.dev/v1\nkind: Thing\nmetadata:\n  name: web\nspec: {}\n",
      "apps/prd/ferry-overlay.yaml": "apiVersion: ferry.dev/v1\nkind: Overlay\nspec:\n  bases:\n    - ../../base\n",
    });
    const result = await renderSource(root, "apps/prd", { cache: new RenderCache() });
    assert.deepStrictEqual(result.problems, []);
    assert.deepStrictEqual(result.inputs, { directories: ["apps/prd", "base"], files: [] });
  });
});

describe("helm", () => {
  it("attributes each document to the template helm names in its Source comment", () => {
    const output = "---\n# Source: web/templates/service.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n---\n# Source: web/charts/db/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: db\n";
    assert.deepStrictEqual(helmChunks(output, "charts/web").map((c) => c.file), ["charts/web/templates/service.yaml", "charts/web/charts/db/templates/cm.yaml"]);
  });

  it("renders a chart with its values, the values files and the environment's values", { skip: noHelm }, async () => {
    const root = await tempDir("ferry-helm-");
    await writeFiles(root, {
      "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
      "charts/web/values.yaml": "replicas: 1\nimage: nginx:1.27\n",
      "charts/web/values-prd.yaml": "replicas: 3\n",
      "envs/prd.yaml": "image: nginx:1.28\n",
      "charts/web/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  replicas: {{ .Values.replicas | quote }}\n  image: {{ .Values.image | quote }}\n  team: {{ .Values.team | quote }}\n",
    });
    const result = await renderSource(root, "charts/web", { cache: new RenderCache(), helm: { releaseName: "shop", environment: "prd", valuesFiles: ["envs/prd.yaml"], values: { team: "blue" } } });
    assert.deepStrictEqual(result.problems, []);
    assert.deepStrictEqual(result.objects.map((o) => [o.key, o.origin.file, o.manifest["data"]]), [
      ["/ConfigMap//shop", "charts/web/templates/cm.yaml", { replicas: "3", image: "nginx:1.28", team: "blue" }],
    ]);
  });
});
