import { userInfo } from "node:os";
import { describeSuspension } from "../../engine/status.js";
import { AgentClient } from "../client.js";
import { CliError, EXIT } from "../exit-codes.js";
import type { OutputFormat } from "../output.js";
import { formatData, isData } from "../output.js";
import type { ClusterFlags } from "./offline.js";
import { withLocalAgent } from "./offline.js";

/** `ferry suspend <app>`: the agent stops syncing and self-healing the application (drift is still reported) until resumed. */
export async function runSuspendCommand(stateDir: string, name: string, options: { reason?: string; output?: OutputFormat; cluster?: ClusterFlags }): Promise<number> {
  const request = { by: userInfo().username, ...(options.reason !== undefined ? { reason: options.reason } : {}) };
  const client = await AgentClient.find(stateDir);
  const suspension = client
    ? (await client.suspend(name, request)).suspension
    : await withLocalAgent(stateDir, async (agent) => {
        if (!agent.engine.applications().some((a) => a.name === name)) throw new CliError(`unknown application ${JSON.stringify(name)}`);
        return agent.suspend(name, request);
      }, options.cluster);
  if (options.output && isData(options.output)) console.log(formatData({ application: name, suspension }, options.output));
  else console.log(`${name} is ${describeSuspension(suspension)}: not synced or self-healed until ferry resume ${name}`);
  return EXIT.ok;
}

/** `ferry resume <app>`: lifts a suspension; what was held back is applied. */
export async function runResumeCommand(stateDir: string, name: string, options: { output?: OutputFormat; cluster?: ClusterFlags } = {}): Promise<number> {
  const request = { by: userInfo().username };
  const client = await AgentClient.find(stateDir);
  const resumed = client
    ? await client.resume(name, request)
    : await withLocalAgent(stateDir, async (agent) => {
        if (!agent.engine.applications().some((a) => a.name === name)) throw new CliError(`unknown application ${JSON.stringify(name)}`);
        return agent.resume(name, request);
      }, options.cluster);
  if (options.output && isData(options.output)) console.log(formatData({ application: name, resumed }, options.output));
  else console.log(resumed ? `resumed ${name}: the agent syncs it again` : `${name} was not suspended (spec.suspend in Git is changed in Git)`);
  return EXIT.ok;
}
