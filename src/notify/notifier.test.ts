import assert from "node:assert/strict";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import type { Digest, ResourceKey, Revision } from "../core/ids.js";
import type { Notification } from "../config/notification.js";
import { NOTIFICATION_EVENTS } from "../config/notification.js";
import { EMPTY_CHANGE_SET, initialStatus } from "../engine/status.js";
import { Notifier } from "./notifier.js";

const revision = "a".repeat(40) as Revision;

/** A real HTTP endpoint that records what it is sent and answers per path. */
describe("notifier", () => {
  const received: { path: string; body: Record<string, unknown> }[] = [];
  const failuresLeft = new Map<string, number>();
  let url = "";
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = "";
    req.on("data", (c: Buffer) => (text += c.toString()));
    req.on("end", () => {
      const path = req.url ?? "/";
      if (path === "/hang") return; // never answers
      const left = failuresLeft.get(path) ?? 0;
      if (left > 0) {
        failuresLeft.set(path, left - 1);
        res.statusCode = 503;
        return res.end();
      }
      received.push({ path, body: JSON.parse(text) as Record<string, unknown> });
      res.end("ok");
    });
  });
  before(async () => {
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const notification = (name: string, path: string, extra: Partial<Notification> = {}): Notification => ({
    name,
    type: "webhook",
    target: { url: `${url}${path}` },
    events: [...NOTIFICATION_EVENTS],
    ...extra,
  });
  const failed = {
    type: "SyncFinished" as const,
    application: "web",
    target: "host",
    revision,
    digest: `sha256:${"0".repeat(64)}` as Digest,
    versions: [],
    trigger: "revision" as const,
    outcome: "Failed" as const,
    reason: "HealthCheckFailed",
    message: "Service/web: connection refused",
    changeSet: EMPTY_CHANGE_SET,
    durationMs: 10,
  };

  test("sends a failed sync as JSON and as a Slack message, once however often it is seen", async () => {
    received.length = 0;
    const notifier = new Notifier({ agent: "laptop", log: () => undefined });
    notifier.configure([notification("hook", "/hook"), notification("chat", "/chat", { type: "slack" })]);
    notifier.listener(failed);
    notifier.listener(failed);
    await notifier.drain();
    const hook = received.filter((r) => r.path === "/hook");
    assert.equal(hook.length, 1, "deduplicated");
    assert.deepEqual(
      { ...hook[0]?.body, at: undefined },
      { event: "SyncFailed", application: "web", revision, reason: "HealthCheckFailed", message: "Service/web: connection refused", agent: "laptop", at: undefined },
    );
    const chat = received.filter((r) => r.path === "/chat");
    assert.match(String(chat[0]?.body.text), /^:warning: \*web\* SyncFailed at aaaaaaaa: Service\/web: connection refused \(agent laptop\)$/);
  });

  test("retries a failing endpoint, while one that hangs delays nothing else", async () => {
    received.length = 0;
    failuresLeft.set("/flaky", 2);
    const logs: string[] = [];
    const notifier = new Notifier({ agent: "a", retryDelayMs: 10, timeoutMs: 300, attempts: 3, log: (m) => logs.push(m) });
    notifier.configure([notification("stuck", "/hang"), notification("flaky", "/flaky")]);
    const started = Date.now();
    notifier.alert({ event: "Rollback", application: "web", reason: "Rollback", message: "rolled back", at: new Date().toISOString() });
    for (let i = 0; i < 100 && !received.some((r) => r.path === "/flaky"); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(received.some((r) => r.path === "/flaky"), "delivered on the third attempt");
    assert.ok(Date.now() - started < 900, "not held up by the endpoint that hangs");
    await notifier.drain();
    assert.ok(logs.some((l) => l.startsWith("notification stuck: could not send Rollback of web to http://127.0.0.1:")));
    assert.ok(!logs.some((l) => l.includes("/hang")), "the URL's path (where tokens live) is not logged");
  });

  test("alerts only on the events and applications asked for; health degrading once, not while it stays degraded", async () => {
    received.length = 0;
    const notifier = new Notifier({ agent: "a", log: () => undefined });
    notifier.configure([notification("health", "/health", { events: ["HealthDegraded"], applications: ["web"] })]);
    const status = (name: string, health: "Healthy" | "Degraded") => ({ ...initialStatus(name, "host"), health: { status: health, message: `${name} is ${health}` } });
    notifier.listener(failed);
    notifier.listener({ type: "StatusChanged", application: "web", status: status("web", "Healthy") });
    notifier.listener({ type: "StatusChanged", application: "web", status: status("web", "Degraded") });
    notifier.listener({ type: "StatusChanged", application: "web", status: { ...status("web", "Degraded"), drift: [] } });
    notifier.listener({ type: "StatusChanged", application: "db", status: status("db", "Degraded") });
    notifier.listener({ type: "DriftCorrected", application: "web", revision, objects: ["host.ferry.dev/File//x" as ResourceKey] });
    await notifier.drain();
    assert.deepEqual(
      received.map((r) => [r.body.event, r.body.application, r.body.message]),
      [["HealthDegraded", "web", "web is Degraded"]],
    );
  });

  test("reads the URL from the environment, and says when it is missing", async () => {
    received.length = 0;
    const logs: string[] = [];
    const notifier = new Notifier({ agent: "a", env: { HOOK_URL: `${url}/from-env` }, log: (m) => logs.push(m) });
    notifier.configure([
      { name: "env", type: "webhook", target: { env: "HOOK_URL" }, events: ["SyncFailed"] },
      { name: "unset", type: "webhook", target: { env: "NOT_SET" }, events: ["SyncFailed"] },
    ]);
    notifier.listener(failed);
    await notifier.drain();
    assert.deepEqual(
      received.map((r) => r.path),
      ["/from-env"],
    );
    assert.deepEqual(logs, ["notification unset: environment variable NOT_SET is not set; alert not sent"]);
  });
});
