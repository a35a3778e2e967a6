import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { TestRepository } from "./test-repository.js";
import type { AgentOptions } from "../../src/agent/agent.js";
import { Agent } from "../../src/agent/agent.js";
import type { AgentInfo } from "../../src/agent/state-dir.js";
import { readAgentInfo } from "../../src/agent/state-dir.js";

/** An Application named `name` whose manifests are in `apps/<name>`. */
export const applicationYaml = (name: string): string => `apiVersion: ferry.dev/v1
kind: Application
metadata:
  name: ${name}
spec:
  source:
    path: apps/${name}
`;

/** A host File named `name`, written to `<name>.txt` with `text`. */
export const hostFileYaml = (name: string, text: string): string => `apiVersion: host.ferry.dev/v1
kind: File
metadata:
  name: ${name}
spec:
  path: ${name}.txt
  content: "${text}"
`;

/** A started agent of a test, and how to remove it with its repository and work directory. */
export interface TestAgent {
  readonly agent: Agent;
  readonly info: AgentInfo;
  stop(): Promise<void>;
}

/**
 * Starts an agent on `repo` (config in `ferry/`, ref main) with its state and
 * root under `work`, its API on a free loopback port and polling hourly, so
 * only the test moves it; returns once the first reconcile is done.
 * `beforeStart` sees the agent first (to subscribe to its events).
 */
export async function startTestAgent(
  repo: TestRepository,
  work: string,
  options: Partial<AgentOptions> = {},
  beforeStart?: (agent: Agent) => void,
): Promise<TestAgent> {
  const agent = new Agent({
    repo: repo.directory,
    ref: "main",
    path: "ferry",
    stateDir: join(work, "state"),
    root: join(work, "root"),
    pollIntervalMs: 3_600_000,
    jitter: 0,
    listen: { host: "127.0.0.1", port: 0 },
    ...options,
  });
  beforeStart?.(agent);
  await agent.start();
  await agent.engine.whenIdle();
  const info = await readAgentInfo(join(work, "state"));
  assert.ok(info, "agent.json names the running agent");
  return {
    agent,
    info,
    stop: async () => {
      await agent.stop();
      await repo.remove();
      await rm(work, { recursive: true, force: true });
    },
  };
}
