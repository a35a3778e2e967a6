import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { FerryError } from "../core/errors.js";
import type { Health } from "../core/health.js";
import type { ResourceKey } from "../core/ids.js";
import type { Target } from "../targets/target.js";
import { RenderCache } from "../render/render-source.js";
import { findExecutable } from "../render/tools/find-tool.js";
import { testArtifacts } from "../../test/support/stage-test-support.js";
import { renderStage, waitForHealth } from "./stages.js";

const artifact = testArtifacts("ferry-stage-", "a");

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

describe("waitForHealth", () => {
  const key = "apps/Deployment/shop/web" as ResourceKey;
  const target = (status: Health["status"]): Pick<Target, "health"> => ({
    health: (keys) => Promise.resolve(new Map(keys.map((k) => [k, { status, message: "1 of 3 replicas available" }]))),
  });

  it("says an object still Progressing at the deadline outlasted the health timeout", async () => {
    const health = await waitForHealth(target("Progressing") as Target, [key], { timeoutMs: 0, progress: () => undefined });
    assert.deepStrictEqual(health.get(key), { status: "Progressing", message: "still progressing after the 0s health timeout: 1 of 3 replicas available" });
  });

  it("returns settled health as read", async () => {
    const health = await waitForHealth(target("Degraded") as Target, [key], { timeoutMs: 0, progress: () => undefined });
    assert.deepStrictEqual(health.get(key), { status: "Degraded", message: "1 of 3 replicas available" });
  });
});
