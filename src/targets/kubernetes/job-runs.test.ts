// Runs of a Job for verifications against the fake API server: a Job's
// template cannot change, so each run is a new Job made from the declared one,
// found again by its run id, judged by its own conditions, and only the newest
// few are kept.
import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { after, before, describe, it } from "node:test";
import type { JsonObject } from "../../core/json.js";
import type { Manifest } from "../../core/objects.js";
import { startFakeKube } from "../../../test/support/kube-fake/index.js";
import type { FakeKube } from "../../../test/support/kube-fake/index.js";
import { makeObject } from "../../../test/support/target-testing.js";
import { clientFor } from "../../../test/support/kube-test-support.js";
import { KEPT_RUNS, RUN_ID_LABEL, RUN_OF_LABEL, runJobName } from "./job-runs.js";
import type { KubernetesTarget } from "./kubernetes-target.js";
import { createKubernetesTarget } from "./kubernetes-target.js";

const smoke: Manifest = {
  apiVersion: "batch/v1",
  kind: "Job",
  metadata: { name: "smoke", namespace: "default", labels: { team: "shop" } },
  spec: {
    backoffLimit: 0,
    ttlSecondsAfterFinished: 0,
    template: { spec: { restartPolicy: "Never", containers: [{ name: "smoke", image: "curl:8", env: [{ name: "URL", value: "http://web/" }, { name: "FERRY_VERSION", value: "stale" }] }] } },
  },
};
const context = { application: "shop", artifactDirectory: tmpdir() };
const request = (id: string, version: string) => ({ id, env: { FERRY_VERSION: version, FERRY_RUN_ID: id } });

describe("kubernetes verification runs", () => {
  let fake: FakeKube;
  let target: KubernetesTarget;
  before(async () => {
    fake = await startFakeKube();
    target = createKubernetesTarget({ client: clientFor(fake.kubeconfigPath, "fake") });
  });
  after(async () => {
    await target.close();
    await fake.close();
  });

  it("runs the declared Job again as a new Job per run id, with the version in its environment", async () => {
    const object = makeObject(smoke, "apps/shop/smoke.yaml");
    assert.equal(await target.apply(object, context), "created");
    const first = await target.runJob?.(object, context, request("1-0-0-aaaaaa", "1.0.0"));
    assert.equal(first?.name, "smoke-1-0-0-aaaaaa");
    const created = fake.get("batch/v1", "Job", "default", "smoke-1-0-0-aaaaaa") as JsonObject & { metadata: { labels: Record<string, string> }; spec: { template: { spec: { containers: { env: { name: string; value: string }[] }[] } } } };
    assert.equal(created.metadata.labels[RUN_OF_LABEL], "smoke");
    assert.equal(created.metadata.labels[RUN_ID_LABEL], "1-0-0-aaaaaa");
    assert.equal(created.metadata.labels["team"], "shop");
    assert.equal((created.spec as JsonObject)["ttlSecondsAfterFinished"], undefined, "runs are kept by count, not by a TTL");
    assert.deepEqual(created.spec.template.spec.containers[0]?.env, [
      { name: "URL", value: "http://web/" },
      { name: "FERRY_VERSION", value: "1.0.0" },
      { name: "FERRY_RUN_ID", value: "1-0-0-aaaaaa" },
    ]);
    // The declared Job is left as it is.
    assert.ok(fake.get("batch/v1", "Job", "default", "smoke"));
    // The same id is the same run: nothing new is created.
    await fake.settled();
    const again = await target.runJob?.(object, context, request("1-0-0-aaaaaa", "1.0.0"));
    assert.equal(again?.name, "smoke-1-0-0-aaaaaa");
    assert.equal(again?.status, "succeeded");
    const read = await target.jobRun?.(object.key, "1-0-0-aaaaaa");
    assert.equal(read?.status, "succeeded");
    assert.equal(await target.jobRun?.(object.key, "9-9-9-ffffff"), undefined);
  });

  it("judges a run by its own Job: running until its conditions say, a failed run failed whatever earlier runs did", async () => {
    // No simulated controllers: the test says how the run ends.
    const still = await startFakeKube({ simulateControllers: false });
    const quiet = createKubernetesTarget({ client: clientFor(still.kubeconfigPath, "fake") });
    try {
      const object = makeObject(smoke, "apps/shop/smoke.yaml");
      await quiet.runJob?.(object, context, request("1-0-0-aaaaaa", "1.0.0"));
      still.edit("batch/v1", "Job", "default", "smoke-1-0-0-aaaaaa", (job) => {
        job["status"] = { startTime: "2026-01-01T00:00:00Z", completionTime: "2026-01-01T00:00:03Z", conditions: [{ type: "Complete", status: "True" }] };
      });
      const started = await quiet.runJob?.(object, context, request("2-0-0-bbbbbb", "2.0.0"));
      assert.equal(started?.status, "running");
      assert.equal((await quiet.jobRun?.(object.key, "2-0-0-bbbbbb"))?.status, "running");
      still.edit("batch/v1", "Job", "default", "smoke-2-0-0-bbbbbb", (job) => {
        job["status"] = { startTime: "2026-01-01T00:00:00Z", conditions: [{ type: "Failed", status: "True", reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit", lastTransitionTime: "2026-01-01T00:00:05Z" }] };
      });
      const run = await quiet.jobRun?.(object.key, "2-0-0-bbbbbb");
      assert.equal(run?.status, "failed");
      assert.equal(run?.message, "job smoke-2-0-0-bbbbbb failed: BackoffLimitExceeded: Job has reached the specified backoff limit");
      assert.equal((await quiet.jobRun?.(object.key, "1-0-0-aaaaaa"))?.status, "succeeded");
    } finally {
      await quiet.close();
      await still.close();
    }
  });

  it("keeps the newest runs of a Job and deletes the older ones", async () => {
    const object = makeObject(smoke, "apps/shop/smoke.yaml");
    const ids = Array.from({ length: KEPT_RUNS + 2 }, (_, i) => `3-0-${i}-cccccc`);
    for (const id of ids) await target.runJob?.(object, context, request(id, "3.0.0"));
    await fake.settled();
    const kept = ids.filter((id) => fake.get("batch/v1", "Job", "default", runJobName("smoke", id)) !== undefined);
    assert.deepEqual(kept, ids.slice(-KEPT_RUNS));
    assert.ok(fake.get("batch/v1", "Job", "default", "smoke"), "the declared Job is never pruned");
  });

  it("names runs within 63 characters and runs only Jobs", async () => {
    const long = "a-very-long-smoke-test-job-name-that-goes-on-and-on-and-on-x";
    const name = runJobName(long, "10-20-30-dddddd");
    assert.ok(name.length <= 63, name);
    assert.match(name, /-10-20-30-dddddd$/);
    assert.notEqual(runJobName(long, "10-20-30-dddddd"), runJobName(`${long}y`, "10-20-30-dddddd"));
    const config = makeObject({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "default" }, data: {} }, "apps/shop/c.yaml");
    assert.match(target.runnable?.(config) ?? "", /not a batch\/v1 Job/);
    await assert.rejects(target.runJob?.(config, context, request("x", "1")) ?? Promise.resolve(), /not a batch\/v1 Job/);
  });
});
