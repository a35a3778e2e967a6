import type { Agent } from "../../agent/agent.js";
import { loadAgentSettings } from "../../agent/state-dir.js";
import { CliError } from "../exit-codes.js";
import { agentFromOptions } from "./agent.js";

/**
 * Runs `work` on an agent started in this process (no polling, no API, no
 * automatic runs), for commands used while no agent is running. The settings
 * are those the last agent on this state directory saved.
 */
export async function withLocalAgent<T>(stateDir: string, work: (agent: Agent) => Promise<T>): Promise<T> {
  const settings = await loadAgentSettings(stateDir);
  if (!settings) throw new CliError(`no agent is running on ${stateDir} and none ran there before; start one with: ferry agent --repo <repository>`);
  const agent = agentFromOptions({ ...settings, stateDir, interval: "1m", jitter: "0", listen: "127.0.0.1:0", healthTimeout: "2m" }, false);
  await agent.start({ poll: false, reconcile: false });
  try {
    return await work(agent);
  } finally {
    await agent.stop();
  }
}
