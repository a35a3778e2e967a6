// Scenario of alerts: a Notification in Git sends a failed sync and a
// corrected drift to a real HTTP endpoint, and a promotion's wait for
// approval and its end.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { test } from "node:test";
import { applicationsYaml, filesYaml, serviceApp } from "./fixtures.js";
import { freePort, outputOf, Scenario } from "./harness.js";
import type { Environment } from "./promotion-fixtures.js";
import { digestOf, promotionRepository, publish } from "./promotion-fixtures.js";

/** An HTTP receiver of JSON webhooks on loopback, closed when the test ends: what it received, and its URL at `path`. */
async function webhookReceiver(t: TestContext, path: string): Promise<{ received: Record<string, unknown>[]; url: string }> {
  const received: Record<string, unknown>[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      received.push(JSON.parse(body) as Record<string, unknown>);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { received, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}` };
}

test("a Notification in Git alerts a webhook when a sync fails and when drift is corrected", async (t) => {
  const { received, url: hook } = await webhookReceiver(t, "/alerts");
  const s = await Scenario.create();
  t.after(() => s.cleanup());
  const port = await freePort();
  const notification = ["apiVersion: ferry.dev/v1", "kind: Notification", "metadata:", "  name: team", "spec:", `  url: ${hook}`, "  events: [SyncFailed, DriftCorrected]", ""].join("\n");
  await s.commit("Add notes and a broken web", {
    "ferry/applications.yaml": applicationsYaml({ name: "notes" }, { name: "web" }),
    "ferry/notifications.yaml": notification,
    "apps/notes/files.yaml": filesYaml([{ name: "note", path: "notes/note.txt", content: "from Git" }]),
    ...serviceApp({ name: "web", port, greeting: "hi", command: "ferry-no-such-command" }),
  });
  s.startAgent();
  const failed = await s.waitFor("a SyncFailed alert for web", () => received.find((r) => r.event === "SyncFailed" && r.application === "web"));
  assert.match(String(failed.message), /ferry-no-such-command/);
  await s.waitForReady("notes");
  await writeFile(join(s.root, "notes", "note.txt"), "edited by hand\n");
  const corrected = await s.waitFor("a DriftCorrected alert for notes", () => received.find((r) => r.event === "DriftCorrected" && r.application === "notes"));
  assert.equal(corrected.message, "1 object put back as Git says");
  assert.equal(received.filter((r) => r.event === "SyncFailed" && r.application === "web").length, 1, "a failure seen again is not sent again");
});

test("a promotion waiting for approval is notified once, and its end once approved", { timeout: 300_000 }, async (t) => {
  const { received, url: hook } = await webhookReceiver(t, "/promotions");
  const s = await Scenario.create();
  t.after(() => s.cleanup());
  const artifacts = join(s.dir, "artifacts");
  const ports = { dev: await freePort(), acc: await freePort(), prd: await freePort() } as Record<Environment, number>;
  await publish(artifacts, "1.0.0");
  const notification = ["apiVersion: ferry.dev/v1", "kind: Notification", "metadata:", "  name: releases", "spec:", `  url: ${hook}`, "  events: [PromotionAwaitingApproval, PromotionSucceeded, PromotionFailed]", ""].join("\n");
  await s.commit("web in dev, acc and prd, a pipeline, and a notification of its promotions", {
    ...promotionRepository(ports, artifacts, "1.0.0", digestOf(artifacts, "1.0.0")),
    "ferry/notifications.yaml": notification,
  });
  s.startAgent({ interval: "500ms" });
  await s.waitForReady("web-prd");
  await publish(artifacts, "2.0.0");
  const waiting = await s.waitFor("a PromotionAwaitingApproval alert for prd", () => received.find((r) => r.event === "PromotionAwaitingApproval"), () => JSON.stringify(received), 120_000);
  assert.deepEqual(
    [waiting.pipeline, waiting.version, waiting.environment, waiting.application, waiting.reason, waiting.message],
    ["web", "2.0.0", "prd", "web-prd", "ApprovalRequired", "web 2.0.0 waits for approval into prd: ferry approve web --env prd"],
  );
  const approved = await s.ferry("approve", "web", "--env", "prd");
  assert.equal(approved.code, 0, outputOf(approved));
  const done = await s.waitFor("a PipelineCompleted alert", () => received.find((r) => r.reason === "PipelineCompleted"), () => JSON.stringify(received), 120_000);
  assert.equal(done.message, "web 2.0.0 passed prd, the last environment: the promotion is done");
  assert.deepEqual(
    received.map((r) => [r.event, r.environment, r.reason]),
    [
      ["PromotionSucceeded", "dev", "EnvironmentPassed"],
      ["PromotionSucceeded", "acc", "EnvironmentPassed"],
      ["PromotionAwaitingApproval", "prd", "ApprovalRequired"],
      ["PromotionSucceeded", "prd", "PipelineCompleted"],
    ],
    "the wait for approval is told once, though the gates were checked many times while it waited",
  );
});
