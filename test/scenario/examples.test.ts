// The repositories under examples/ are what users copy: each must pass `ferry validate` with
// no problem at all, and the host example must run as its README says.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { cp, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { parseAllDocuments } from "yaml";
import { FERRY_KINDS, SCHEMA_FILE_NAME } from "../../src/config/write-json-schema.js";
import { findExecutable } from "../../src/render/tools/find-tool.js";
import { getObject } from "../support/kube-test-support.js";
import { freePort, httpGet, outputOf, runCli, scaled, Scenario } from "./harness.js";
import { startKubeScenario } from "./kube-scenario.js";

/** examples/ of the checkout, seen from dist/test/scenario/. */
const EXAMPLES = fileURLToPath(new URL("../../../examples/", import.meta.url));
const SCHEMA = new URL(`../../../schemas/${SCHEMA_FILE_NAME}`, import.meta.url);

const kustomizeRenderer = await findExecutable(["kustomize", "kubectl"]);
// scripts/install-helm.mjs (run by `npm test`) puts helm in .tools/bin, first on the tests' PATH.
const helm = process.env["FERRY_HELM"] || (await findExecutable(["helm"]));

const EXAMPLE_NEEDS: Readonly<Record<string, string | false>> = {
  host: false,
  "kubernetes-kustomize": kustomizeRenderer ? false : "neither kustomize nor kubectl is on PATH to render the kustomization",
  "kubernetes-helm": helm ? false : "helm is not installed (npm test installs it with scripts/install-helm.mjs; or set FERRY_HELM)",
  promotion: false,
};

describe("examples", { concurrency: true }, () => {
  for (const [example, skip] of Object.entries(EXAMPLE_NEEDS)) {
    test(`ferry validate examples/${example} finds no problem`, { skip }, async () => {
      const dir = join(EXAMPLES, example);
      assert.ok(existsSync(join(dir, "ferry")), `examples/${example} has its configuration under ferry/`);
      assert.ok(existsSync(join(dir, "README.md")), `examples/${example} says how to run it`);
      const result = await runCli(["validate", dir, "-o", "json"], { cwd: EXAMPLES, timeoutMs: scaled(60_000) });
      assert.equal(result.code, 0, outputOf(result));
      assert.deepEqual(JSON.parse(result.stdout), [], `no problem, not even a warning: ${outputOf(result)}`);
    });
  }

  test("every Ferry document of the examples validates against the published JSON Schema, as an editor checks it", async () => {
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats.default(ajv);
    const validate = ajv.compile(JSON.parse(await readFile(SCHEMA, "utf8")) as object);
    const apiVersions = new Set(FERRY_KINDS.map((k) => k.apiVersion));
    const files = (await readdir(EXAMPLES, { recursive: true })).filter((f) => /\.ya?ml$/.test(f) && !f.includes("templates/"));
    let checked = 0;
    const failures: string[] = [];
    for (const file of files) {
      // An environment's files under envs/ are overlay patches: they leave out what the base has.
      const patch = file.includes("/envs/") && !file.endsWith("ferry-overlay.yaml");
      for (const document of parseAllDocuments(await readFile(join(EXAMPLES, file), "utf8"))) {
        const value = document.toJS() as { apiVersion?: unknown } | null;
        if (typeof value?.apiVersion !== "string" || !apiVersions.has(value.apiVersion)) continue;
        checked++;
        if (validate(value)) continue;
        const errors = (validate.errors ?? []).filter((e) => !(patch && (e.keyword === "required" || e.keyword === "if")));
        if (errors.length > 0) failures.push(`examples/${file}: ${errors.map((e) => `${e.instancePath || "/"} ${e.message ?? ""}`).join("; ")}`);
      }
    }
    assert.ok(checked >= 10, `the examples hold Ferry documents (${checked} checked)`);
    assert.deepEqual(failures, []);
  });

  test("examples/host, committed to a repository, runs: both environments serve and their files are written", async (t) => {
    const s = await Scenario.create();
    t.after(() => s.cleanup());
    await cp(join(EXAMPLES, "host"), s.repo, { recursive: true });
    // The example's ports, replaced by free ones so the test never meets another process.
    const ports = { dev: await freePort(), prd: await freePort() };
    const examplePorts = { dev: "18080", prd: "18081" };
    for (const env of ["dev", "prd"] as const) {
      const file = join(s.repo, "apps/hello/envs", env, "hello.yaml");
      const text = await readFile(file, "utf8");
      assert.ok(text.includes(examplePorts[env]), `${env}'s overlay sets port ${examplePorts[env]}`);
      await writeFile(file, text.replaceAll(examplePorts[env], String(ports[env])));
    }
    await s.commit("hello, dev and prd");

    const run = await runCli(s.agentArgs({ once: true }), { cwd: s.dir, timeoutMs: scaled(120_000) });
    assert.equal(run.code, 0, `ferry agent --once: every application Ready\n${outputOf(run)}`);

    for (const env of ["dev", "prd"] as const) {
      // The services outlive `--once`; they answer once started, which the sync waited for.
      const body = await s.waitFor(`${env} answers`, () => httpGet(ports[env]), () => outputOf(run));
      assert.equal(body, `hello from ${env}\n`);
      assert.equal(readFileSync(join(s.root, env, "greeting.txt"), "utf8"), "hello\n");
      assert.equal(readFileSync(join(s.root, env, "server.mjs"), "utf8"), readFileSync(join(EXAMPLES, "host/apps/hello/base/server.mjs"), "utf8"));
    }
    const status = await s.status("hello-prd");
    assert.ok(
      status.inventory.some((o) => String(o.key).includes("Job") && String(o.key).endsWith("smoke") && o.health.status === "Healthy"),
      `the smoke Job is part of prd: ${JSON.stringify(status.inventory)}`,
    );
  });

  for (const example of ["kubernetes-kustomize", "kubernetes-helm"]) {
    test(`examples/${example}, committed to a repository, is applied to a cluster: Deployment, Service and ConfigMap in namespace web`, { skip: EXAMPLE_NEEDS[example] ?? false }, async (t) => {
      const { s, client, kube } = await startKubeScenario(t, { simulateControllers: true });
      await cp(join(EXAMPLES, example), s.repo, { recursive: true });
      await s.commit(example);
      const run = await runCli(s.agentArgs({ once: true, extra: kube }), { cwd: s.dir, timeoutMs: scaled(120_000) });
      assert.equal(run.code, 0, `ferry agent --once: the application Ready\n${outputOf(run)}`);

      const deployment = await getObject(client, "/apis/apps/v1/namespaces/web/deployments/web");
      assert.ok(deployment, "Deployment web/web applied");
      assert.ok(await getObject(client, "/api/v1/namespaces/web/services/web"), "Service web/web applied");
      const volumes = ((deployment["spec"] as { template: { spec: { volumes: { configMap?: { name: string } }[] } } }).template.spec.volumes ?? []).flatMap((v) => (v.configMap ? [v.configMap.name] : []));
      assert.equal(volumes.length, 1, JSON.stringify(deployment["spec"]));
      const configMap = await getObject(client, `/api/v1/namespaces/web/configmaps/${volumes[0] ?? ""}`);
      assert.match(String((configMap?.["data"] as Record<string, unknown> | undefined)?.["index.html"]), /Hello from/, "the ConfigMap the Deployment mounts holds the page");
    });
  }
});
