import type { Agent } from "../../agent/agent.js";
import { loadAgentSettings, readAgentInfo, saveAgentSettings } from "../../agent/state-dir.js";
import { CliError } from "../exit-codes.js";
import { agentFromOptions } from "./agent.js";

/** The cluster a command run without an agent talks to, when given on its command line. */
export interface ClusterFlags {
  readonly kubeconfig?: string;
  readonly kubeContext?: string;
}

/** When cluster flags were given but an agent runs on the state directory (it uses its own), says so on stderr. */
export async function warnIfClusterFlagsUnused(stateDir: string, clusterFlags: ClusterFlags): Promise<void> {
  if (clusterFlags.kubeconfig === undefined && clusterFlags.kubeContext === undefined) return;
  const info = await readAgentInfo(stateDir);
  if (info) console.error(`ferry: --kubeconfig and --context apply when no agent runs; the agent on ${stateDir} (pid ${info.pid}) uses its own cluster settings`);
}

/**
 * Runs `work` on an agent started in this process (no polling, no API, no
 * automatic runs), for commands used while no agent is running. The settings
 * are those the last agent on this state directory saved, with the cluster
 * given on the command line (--kubeconfig, --context) instead of its own.
 */
export async function withLocalAgent<T>(stateDir: string, work: (agent: Agent) => Promise<T>, clusterFlags: ClusterFlags = {}): Promise<T> {
  const settings = await loadAgentSettings(stateDir);
  if (!settings) throw new CliError(`no agent is running on ${stateDir} and none ran there before; start one with: ferry agent --repo <repository>`);
  const agent = agentFromOptions({ ...settings, ...clusterFlags, stateDir, interval: "1m", jitter: "0", listen: "127.0.0.1:0", healthTimeout: "2m" }, false);
  await agent.start({ poll: false, reconcile: false });
  try {
    return await work(agent);
  } finally {
    await agent.stop();
    // The flags were for this command: the next agent starts with the cluster it was given.
    if (clusterFlags.kubeconfig !== undefined || clusterFlags.kubeContext !== undefined) await saveAgentSettings(stateDir, settings);
  }
}
