import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { FerryError } from "../../core/errors.js";
import { formatProblem } from "../../core/errors.js";
import { renderSource } from "../render-source.js";
import { confineHelmChart, confineKustomization } from "./confine.js";
import { findExecutable } from "./find-tool.js";

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const configMap = (name: string): string => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  a: "1"\n`;

/** A checkout at `<tmp>/repo` with `files`, and `<tmp>/elsewhere` beside it (outside) holding a kustomization. */
async function checkout(files: Record<string, string>): Promise<{ root: string; outside: string }> {
  const top = await mkdtemp(join(tmpdir(), "ferry-confine-"));
  dirs.push(top);
  const root = join(top, "repo");
  const outside = join(top, "elsewhere");
  const all: Record<string, string> = {
    ...files,
    "../elsewhere/kustomization.yaml": "resources: [stolen.yaml]\n",
    "../elsewhere/stolen.yaml": configMap("stolen"),
    "../elsewhere/stolen.env": "TOKEN=from-outside\n",
  };
  for (const [path, content] of Object.entries(all)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return { root, outside };
}

async function refused(run: () => Promise<void>): Promise<string[]> {
  try {
    await run();
  } catch (error) {
    assert.ok(error instanceof FerryError, String(error));
    assert.equal(error.reason, "PathEscapesRepository");
    return error.problems.map(formatProblem);
  }
  assert.fail("not refused");
}

const kustomizeTool = (await findExecutable(["kustomize"])) ?? (await findExecutable(["kubectl"]));

describe("tool renders stay inside the repository", () => {
  test("a kustomization whose resources leave the repository is refused before kustomize runs, naming file:line", { skip: kustomizeTool ? false : "neither kustomize nor kubectl is installed" }, async () => {
    const { root } = await checkout({ "apps/web/kustomization.yaml": `resources:\n  - cm.yaml\n  - ../../../elsewhere\n`, "apps/web/cm.yaml": configMap("web") });
    const problems = await refused(async () => void (await renderSource(root, "apps/web")));
    assert.deepEqual(problems, ['apps/web/kustomization.yaml:3:5: resources[1]: "../../../elsewhere" points outside the repository']);
  });

  test("every field of kustomization.yaml that names a path is checked, through the bases it reaches", async () => {
    const { root, outside } = await checkout({
      "apps/web/kustomization.yaml": [
        "resources:",
        "  - ../base",
        "components: [../../../elsewhere]",
        "patches:",
        "  - path: /etc/passwd",
        "patchesStrategicMerge:",
        "  - ../../../elsewhere/stolen.yaml",
        "  - |-",
        "    apiVersion: v1",
        "configMapGenerator:",
        "  - name: c",
        "    files: [key=../../../elsewhere/stolen.env]",
        "    envs: [ok.env]",
        "secretGenerator:",
        "  - name: s",
        "    env: link.env",
        "crds: [../../../elsewhere/stolen.yaml]",
        "openapi:",
        "  path: ../../../elsewhere/stolen.yaml",
        "replacements:",
        "  - path: ../../../elsewhere/stolen.yaml",
        "helmGlobals:",
        "  chartHome: charts",
        "helmCharts:",
        "  - name: x",
        "    valuesFile: ../../../elsewhere/stolen.yaml",
        "    additionalValuesFiles: [ok.env]",
        "resources_too_remote: [https://github.com/x/y]",
        "",
      ].join("\n"),
      "apps/web/ok.env": "A=1\n",
      "apps/web/charts/app/Chart.yaml": "name: app\n",
      "apps/base/kustomization.yaml": "bases:\n  - ../../..\n",
    });
    await symlink(join(outside, "stolen.env"), join(root, "apps/web/link.env"));
    await symlink(outside, join(root, "apps/web/charts/app/templates"));
    const problems = await refused(() => confineKustomization(root, "apps/web"));
    assert.deepEqual(problems, [
      'apps/web/kustomization.yaml:3:14: components[0]: "../../../elsewhere" points outside the repository',
      'apps/web/kustomization.yaml:5:11: patches[0].path: "/etc/passwd" is an absolute path: name files of the repository, relative to the kustomization',
      'apps/web/kustomization.yaml:7:5: patchesStrategicMerge[0]: "../../../elsewhere/stolen.yaml" points outside the repository',
      'apps/web/kustomization.yaml:12:13: configMapGenerator[0].files[0]: "../../../elsewhere/stolen.env" points outside the repository',
      'apps/web/kustomization.yaml:16:10: secretGenerator[0].env: "link.env" is a symbolic link (or goes through one) that leads outside the repository',
      'apps/web/kustomization.yaml:17:8: crds[0]: "../../../elsewhere/stolen.yaml" points outside the repository',
      'apps/web/kustomization.yaml:19:9: openapi.path: "../../../elsewhere/stolen.yaml" points outside the repository',
      'apps/web/kustomization.yaml:21:11: replacements[0].path: "../../../elsewhere/stolen.yaml" points outside the repository',
      'apps/web/kustomization.yaml:23:14: helmGlobals.chartHome: "charts" holds apps/web/charts/app/templates, a symbolic link that leads outside the repository',
      'apps/web/kustomization.yaml:26:17: helmCharts[0].valuesFile: "../../../elsewhere/stolen.yaml" points outside the repository',
      'apps/base/kustomization.yaml:2:5: bases[0]: "../../.." points outside the repository',
    ]);
    // A kustomization that stays inside passes.
    await mkdir(join(root, "apps/ok"), { recursive: true });
    await writeFile(join(root, "apps/ok/kustomization.yaml"), "resources: [../web/ok.env, https://example.com/x.yaml]\nconfigMapGenerator:\n  - name: c\n    envs: [../web/ok.env]\n");
    await confineKustomization(root, "apps/ok");
  });

  test("a kustomization past the YAML bounds is refused as such, without parsing it", async () => {
    const { root } = await checkout({ "apps/web/kustomization.yaml": `resources: ${"[".repeat(2_000_000)}` });
    const error = await confineKustomization(root, "apps/web").then(
      () => assert.fail("not refused"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof FerryError);
    assert.equal(error.reason, "RenderFailed");
    assert.match(error.message, /^kustomization apps\/web: apps\/web\/kustomization\.yaml:1:\d+: nested more than 256 levels deep/);
  });

  test("a kustomization file that is itself a link out of the repository is refused", async () => {
    const { root, outside } = await checkout({ "apps/web/cm.yaml": configMap("web") });
    await symlink(join(outside, "kustomization.yaml"), join(root, "apps/web/kustomization.yaml"));
    assert.deepEqual(await refused(() => confineKustomization(root, "apps/web")), ["apps/web/kustomization.yaml:1:1: apps/web/kustomization.yaml is a symbolic link that leads outside the repository"]);
  });

  test("a chart's file:// dependency, a link in the chart and a values file that lead out are refused", async () => {
    const { root, outside } = await checkout({
      "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.0.0\ndependencies:\n  - name: lib\n    repository: file://../lib\n  - name: stolen\n    repository: file://../../../elsewhere\n",
      "charts/lib/Chart.yaml": "apiVersion: v2\nname: lib\nversion: 1.0.0\n",
      "values/prd.yaml": "a: 1\n",
    });
    await mkdir(join(root, "charts/lib/templates"), { recursive: true });
    await symlink(join(outside, "stolen.yaml"), join(root, "charts/lib/templates/cm.yaml"));
    await symlink(join(outside, "stolen.yaml"), join(root, "values/link.yaml"));
    const problems = await refused(() => confineHelmChart(root, "charts/web", "charts/web/Chart.yaml", { valuesFiles: ["values/prd.yaml", "values/link.yaml"] }));
    assert.deepEqual(problems, [
      "charts/lib/Chart.yaml:1:1: charts/lib/templates/cm.yaml is a symbolic link that leads outside the repository",
      'charts/web/Chart.yaml:8:17: dependencies[1].repository: "file://../../../elsewhere" points outside the repository',
      'spec.source.helm.valuesFiles[1]: values file "values/link.yaml" is a symbolic link (or goes through one) that leads outside the repository',
    ]);
    await confineHelmChart(root, "charts/lib", "charts/lib/Chart.yaml", { valuesFiles: ["values/prd.yaml"] }).then(
      () => assert.fail("the link in lib's templates is refused"),
      () => undefined,
    );
  });
});
