// Scenario of alerts: a Notification in Git sends a failed sync and a
// corrected drift to a real HTTP endpoint.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { applicationsYaml, filesYaml, serviceApp } from "./fixtures.js";
import { freePort, Scenario } from "./harness.js";

test("a Notification in Git alerts a webhook when a sync fails and when drift is corrected", async (t) => {
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
  const hook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`;
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
