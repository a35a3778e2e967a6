// A sync the status reported survives a kill -9 of the agent right after: its
// event is in the history, because it was written before the status said so.
import assert from "node:assert/strict";
import { test } from "node:test";
import { readAgentInfo } from "../../src/agent/state-dir.js";
import type { EngineEvent } from "../../src/engine/events.js";
import type { ApplicationStatus } from "../../src/engine/status.js";
import { defaultHistoryUrl, openHistory } from "../../src/history/open-history.js";
import { applicationsYaml } from "./fixtures.js";
import { Scenario } from "./harness.js";

const versionedFile = (version: string): string => `apiVersion: host.ferry.dev/v1
kind: File
metadata:
  name: web-release
  labels:
    app.kubernetes.io/version: "${version}"
spec:
  path: web/release.txt
  content: "web ${version}"
`;

test("SIGKILL right after the status reported a sync: the sync is in the history", async (t) => {
  const s = await Scenario.create();
  t.after(() => s.cleanup());
  await s.commit("Add web 1.0.0", { "ferry/applications.yaml": applicationsYaml({ name: "web", environment: "prd" }), "apps/web/file.yaml": versionedFile("1.0.0") });
  const agent = s.startAgent();
  await s.waitForReady("web");
  const info = await s.waitFor("agent.json", () => readAgentInfo(s.state));

  // Follow the status as a dashboard would, and kill the agent the moment it reports 1.1.0.
  const abort = new AbortController();
  t.after(() => abort.abort());
  const response = await fetch(`${info.url}/api/v1/events?application=web&type=StatusChanged`, { headers: { authorization: `Bearer ${info.token}` }, signal: abort.signal });
  assert.equal(response.status, 200);
  let second = "";
  const killedOn = (async (): Promise<ApplicationStatus | undefined> => {
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let at = buffer.indexOf("\n\n"); at !== -1; at = buffer.indexOf("\n\n")) {
          const data = buffer
            .slice(0, at)
            .split("\n")
            .find((l) => l.startsWith("data: "));
          buffer = buffer.slice(at + 2);
          if (!data) continue;
          const event = JSON.parse(data.slice(6)) as EngineEvent;
          if (event.type === "StatusChanged" && second !== "" && event.status.sync.revision === second && event.status.lastSync?.outcome === "Succeeded") {
            agent.child.kill("SIGKILL");
            return event.status;
          }
        }
      }
    } catch (error) {
      if (!abort.signal.aborted) throw error;
    }
    return undefined;
  })();
  second = await s.commit("Bump web to 1.1.0", { "apps/web/file.yaml": versionedFile("1.1.0") });
  const reported = await s.waitFor("the status to report 1.1.0", () => Promise.race([killedOn, agent.exited.then(() => undefined)]));
  assert.deepEqual(reported.lastSync?.versions, ["1.1.0"]);
  const exit = await agent.exited;
  assert.equal(exit.signal, "SIGKILL", s.agentOutput());

  const store = await openHistory(defaultHistoryUrl(s.state));
  try {
    const [deployment] = (await store.deployments({ application: "web", version: "1.1.0" })).items;
    assert.ok(deployment, `1.1.0 was reported synced, so the history has it\n${s.agentOutput()}`);
    assert.deepEqual([deployment.revision, deployment.environment, deployment.to], [second, "prd", undefined]);
  } finally {
    await store.close();
  }
});
