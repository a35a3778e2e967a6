import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PromotionRecord, StepPhase, StepRecord } from "../promote/promotion-state.js";
import { promotionAlertOf, slackBody } from "./alerts.js";

const now = new Date("2026-01-02T03:04:05.000Z");

function record(phases: readonly StepPhase[], last: Partial<StepRecord> = {}): PromotionRecord {
  const envs = ["dev", "acc", "prod"];
  return {
    pipeline: "shop",
    version: "1.4.2",
    values: { version: "1.4.2" },
    startedAt: now.toISOString(),
    startedBy: "watch",
    steps: phases.map((phase, i) => ({ environment: envs[i] ?? `env${i}`, application: `shop-${envs[i] ?? i}`, phase, since: now.toISOString(), ...(i === phases.length - 1 ? last : {}) })),
  };
}

describe("promotion alerts", () => {
  it("says a version waits for approval, naming pipeline, version, environment and how to approve", () => {
    const alert = promotionAlertOf(record(["Passed", "AwaitingApproval", "Waiting"]), 1, now);
    assert.deepEqual(alert, {
      event: "PromotionAwaitingApproval",
      application: "shop-acc",
      pipeline: "shop",
      environment: "acc",
      version: "1.4.2",
      reason: "ApprovalRequired",
      message: "shop 1.4.2 waits for approval into acc: ferry approve shop --env acc",
      at: "2026-01-02T03:04:05.000Z",
    });
    assert.equal(
      slackBody(alert, "laptop").text,
      ":hourglass: *shop* PromotionAwaitingApproval (ApprovalRequired): shop 1.4.2 waits for approval into acc: ferry approve shop --env acc (agent laptop)",
    );
  });

  it("tells a passed step from the end of the pipeline", () => {
    const middle = promotionAlertOf(record(["Passed", "Passed", "Waiting"], {}), 1, now);
    assert.deepEqual([middle?.event, middle?.reason, middle?.message], ["PromotionSucceeded", "EnvironmentPassed", "shop 1.4.2 passed acc; next: prod"]);
    const done = promotionAlertOf(record(["Passed", "Passed", "Passed"], { commit: "b".repeat(40) }), 2, now);
    assert.deepEqual(
      [done?.event, done?.reason, done?.environment, done?.revision, done?.message],
      ["PromotionSucceeded", "PipelineCompleted", "prod", "b".repeat(40), "shop 1.4.2 passed prod, the last environment: the promotion is done"],
    );
  });

  it("says where a promotion stopped and why", () => {
    const failed = promotionAlertOf(record(["Passed", "Failed"], { reason: "Timeout", message: "acc (shop-acc) is not healthy after 600s" }), 1, now);
    assert.deepEqual([failed?.event, failed?.reason, failed?.message], ["PromotionFailed", "Timeout", "shop 1.4.2 stopped in acc: acc (shop-acc) is not healthy after 600s"]);
    assert.equal(slackBody(failed ?? assert.fail(), "a").text, ":x: *shop* PromotionFailed (Timeout): shop 1.4.2 stopped in acc: acc (shop-acc) is not healthy after 600s (agent a)");
  });

  it("raises nothing for the phases in between", () => {
    for (const phase of ["Waiting", "Writing", "Syncing", "Verifying", "Soaking", "Held", "AwaitingPromotion", "AwaitingMerge"] as const) {
      assert.equal(promotionAlertOf(record(["Passed", phase]), 1, now), undefined, phase);
    }
    assert.equal(promotionAlertOf(record(["Passed"]), 3, now), undefined, "no such step");
  });
});
