import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { FerryError } from "../core/errors.js";
import { asDigest, asRevision } from "../core/ids.js";
import { RenderCache } from "../render/render-source.js";
import { findExecutable } from "../render/tools/find-tool.js";
import type { Artifact } from "../source/artifact.js";
import { renderStage } from "./stages.js";

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function artifact(files: Record<string, string>): Promise<Artifact> {
  const directory = await mkdtemp(join(tmpdir(), "ferry-stage-"));
  dirs.push(directory);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(directory, path, ".."), { recursive: true });
    await writeFile(join(directory, path), content);
  }
  return {
    url: "repo",
    ref: "main",
    revision: asRevision("a".repeat(40)),
    digest: asDigest(`sha256:${"0".repeat(64)}`),
    directory,
    commit: { author: "a", email: "a@example.com", subject: "s", time: "2026-01-01T00:00:00Z" },
  };
}

const KUSTOMIZED = {
  "apps/web/kustomization.yaml": "resources: [cm.yaml]\nnamePrefix: prd-\n",
  "apps/web/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n",
};
const noKustomize = (await findExecutable(["kustomize"])) ?? (await findExecutable(["kubectl"])) ? false : "neither kustomize nor kubectl is installed";

describe("renderStage", () => {
  it("renders a kustomization for the engine", { skip: noKustomize }, async () => {
    const rendered = await renderStage(await artifact(KUSTOMIZED), "apps/web", { cache: new RenderCache() });
    assert.deepStrictEqual(rendered.objects.map((o) => o.key), ["/ConfigMap//prd-web"]);
  });

  it("stalls on a missing tool, naming the directory, the revision and what to install", async () => {
    await assert.rejects(renderStage(await artifact(KUSTOMIZED), "apps/web", { tools: { kustomize: "/nonexistent/kustomize" } }), (error: FerryError) => {
      assert.equal(error.disposition, "stalled");
      assert.equal(error.reason, "RenderToolMissing");
      assert.equal(error.message, "kustomize build apps/web: /nonexistent/kustomize is not installed: install kustomize, or kubectl (which has kustomize built in) (revision aaaaaaaa)");
      return true;
    });
  });
});
