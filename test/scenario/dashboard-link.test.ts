// `ferry dashboard`: the link a user opens, read from the running agent.
import assert from "node:assert/strict";
import { test } from "node:test";
import { readAgentInfo } from "../../src/agent/state-dir.js";
import { applicationYaml, serviceApp } from "./fixtures.js";
import { freePort, outputOf, Scenario } from "./harness.js";

test("ferry dashboard prints the running agent's link with the read token, --admin with the admin token, and says when no agent runs", async (t) => {
  const s = await Scenario.create();
  t.after(() => s.cleanup());
  const none = await s.ferry("dashboard");
  assert.equal(none.code, 2, outputOf(none));
  assert.match(none.stderr, /no agent is running on .*: start one with ferry agent --repo <repository>/);

  const first = await s.commit("Add web", { "ferry/applications.yaml": applicationYaml({ name: "web" }), ...serviceApp({ name: "web", port: await freePort(), greeting: "hi" }) });
  const agent = s.startAgent();
  await s.waitForReady("web", first);
  const printed = await s.waitFor("the dashboard link in the agent's output", () => /dashboard \(read-only\): (\S+)/.exec(agent.output)?.[1]);
  const info = await readAgentInfo(s.state);
  assert.ok(info?.readToken);

  const link = await s.ferry("dashboard");
  assert.equal(link.code, 0, outputOf(link));
  assert.equal(link.stdout.trim(), printed, "the same link the agent printed");
  const admin = await s.ferry("dashboard", "--admin");
  assert.equal(admin.stdout.trim(), `${info.url}/#token=${encodeURIComponent(info.token)}`);
  const page = await fetch(new URL("/", link.stdout.trim()));
  assert.equal(page.status, 200, "the link serves the page");
});
