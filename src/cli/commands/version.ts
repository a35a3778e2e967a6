import { FERRY_VERSION } from "../../core/version.js";
import { AgentClient } from "../client.js";
import { EXIT } from "../exit-codes.js";
import type { OutputFormat } from "../output.js";
import { formatData, isData } from "../output.js";

/**
 * `ferry version`: this client's version, and the version of the agent
 * running on the state directory when one answers. An agent that is not
 * reachable is not an error: the client's version is still printed.
 */
export async function runVersionCommand(stateDir: string, options: { output: OutputFormat }): Promise<number> {
  const client = await AgentClient.find(stateDir);
  let agent: { version?: string; url: string; error?: string } | undefined;
  if (client) {
    try {
      agent = { url: client.info.url, ...withVersion(await client.version()) };
    } catch (error) {
      agent = { url: client.info.url, error: (error as Error).message };
    }
  }
  if (isData(options.output)) console.log(formatData({ client: { version: FERRY_VERSION }, ...(agent ? { agent } : {}) }, options.output));
  else {
    console.log(`client: ${FERRY_VERSION}`);
    if (!agent) console.log(`agent:  none running on ${stateDir}`);
    else if (agent.error !== undefined) console.log(`agent:  not reachable at ${agent.url}: ${agent.error}`);
    else console.log(`agent:  ${agent.version ?? "unknown (older than 0.1.0)"} at ${agent.url}`);
  }
  return EXIT.ok;
}

function withVersion(version: string | undefined): { version?: string } {
  return version !== undefined ? { version } : {};
}
