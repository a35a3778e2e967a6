import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Pipeline, PipelineStep } from "../config/pipeline.js";
import { pipelineView } from "./pipeline-view.js";
import type { PromotionRecord } from "./promotion-state.js";

const step = (environment: string, index: number): PipelineStep => ({
  environment,
  application: `web-${environment}`,
  promotion: "automatic",
  approval: false,
  verify: { job: "smoke", http: [], timeoutMs: 60_000 },
  soakMs: 0,
  onFailure: "stop",
  index,
});
const pipeline: Pipeline = {
  name: "web",
  steps: [step("dev", 0), step("prd", 1)],
  watch: { type: "directory", path: "/srv", pattern: "web-{version}.tgz" } as Pipeline["watch"],
  write: { mode: "push", minIntervalMs: 0 },
  origin: { file: "ferry/pipeline.yaml", line: 1, column: 1, document: 0, positions: {} },
};
const AT = "2026-11-23T12:00:00.000Z";
const passed = (environment: string) => ({ environment, application: `web-${environment}`, phase: "Passed" as const, since: AT });
const done: PromotionRecord = { pipeline: "web", version: "2.0.0", values: { version: "2.0.0" }, startedAt: AT, startedBy: "watch", steps: [passed("dev"), passed("prd")], outcome: "Succeeded", finishedAt: AT };

describe("pipeline view", () => {
  it("says what the environments run when nothing was promoted yet, not that no version exists", () => {
    const view = pipelineView(pipeline, undefined, { dev: { version: "1.0.0" }, prd: { version: "1.0.0" } });
    assert.equal(view.summary, "dev has 1.0.0, prd has 1.0.0; no new version discovered yet");
    assert.equal(pipelineView(pipeline, undefined, {}).summary, "no version discovered yet");
  });

  it("puts a hold and a suspension first, with who, since when and how to lift them, and does not claim a rolled-back version is everywhere", () => {
    const holds = new Map([["web-prd", { reason: "rolled back to 1.0.0: slow", since: AT, by: "Ada", release: "ferry release web-prd" }]]);
    const suspensions = new Map([["web-dev", { by: "bob", at: AT, reason: "audit" }]]);
    const view = pipelineView(pipeline, done, { dev: { version: "2.0.0" }, prd: { version: "1.0.0" } }, undefined, { holds, suspensions });
    assert.equal(
      view.summary,
      `dev is suspended by bob since ${AT}: audit (ferry resume web-dev); prd is on hold since ${AT} by Ada: rolled back to 1.0.0: slow (ferry release web-prd); 2.0.0 reached every environment (prd has 1.0.0 now)`,
    );
    assert.equal(view.environments[1]?.hold?.release, "ferry release web-prd");
    assert.equal(view.environments[0]?.suspension?.by, "bob");
  });
});
