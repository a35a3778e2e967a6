import { findCondition } from "../../core/conditions.js";
import { formatProblem } from "../../core/errors.js";
import type { ApplicationStatus } from "../../engine/status.js";
import { AgentClient } from "../client.js";
import { CliError, EXIT } from "../exit-codes.js";
import { eventPrinter, formatStatusDetail, formatStatusLine } from "../format.js";
import type { EngineEvent } from "../../engine/events.js";
import type { ClusterFlags } from "./offline.js";
import { withLocalAgent } from "./offline.js";
import type { OutputFormat } from "../output.js";
import { isData, formatData } from "../output.js";

/**
 * `ferry sync <app>`: fetch now and apply, even when the policy is manual or
 * the revision stalled before. Progress is printed as it happens. Exit 0 when
 * the application ends Ready, 1 when not.
 */
export async function runSyncCommand(stateDir: string, name: string, options: { prune: boolean; allowMassDelete: boolean; output: OutputFormat; cluster?: ClusterFlags }): Promise<number> {
  const json = isData(options.output);
  const print = eventPrinter((line) => console.error(line), { allProgress: true });
  const onEvent = (event: EngineEvent): void => {
    if (!json) print(event);
  };
  const client = await AgentClient.find(stateDir);
  let status: ApplicationStatus;
  if (client) status = await client.sync(name, { prune: options.prune, allowMassDelete: options.allowMassDelete }, onEvent);
  else {
    status = await withLocalAgent(stateDir, async (agent) => {
      if (!agent.engine.applications().some((a) => a.name === name)) throw new CliError(`unknown application ${JSON.stringify(name)}`);
      const unsubscribe = agent.engine.subscribe(onEvent);
      try {
        return await agent.engine.sync(name, { prune: options.prune, allowMassDelete: options.allowMassDelete });
      } finally {
        unsubscribe();
      }
    }, options.cluster);
  }
  if (isData(options.output)) console.log(formatData(status, options.output));
  else {
    console.log(formatStatusDetail(status));
    for (const p of status.problems) console.error(formatProblem(p));
  }
  return findCondition(status.conditions, "Ready")?.status === "True" ? EXIT.ok : EXIT.failed;
}

/**
 * `ferry sync --all`: every application that is not suspended renders and
 * applies now, whatever its policy and whether or not the newest revision
 * changed what it reads. One line per application; exit 0 when all end Ready.
 */
export async function runSyncAllCommand(stateDir: string, options: { prune: boolean; allowMassDelete: boolean; output: OutputFormat; cluster?: ClusterFlags }): Promise<number> {
  const request = { prune: options.prune, allowMassDelete: options.allowMassDelete };
  const client = await AgentClient.find(stateDir);
  const statuses = client ? await client.syncAll(request) : await withLocalAgent(stateDir, (agent) => agent.engine.syncAll(request), options.cluster);
  if (isData(options.output)) console.log(formatData(statuses, options.output));
  else for (const status of statuses) console.log(formatStatusLine(status));
  return statuses.every((s) => findCondition(s.conditions, "Ready")?.status === "True") ? EXIT.ok : EXIT.failed;
}

/** `ferry refresh`: asks the running agent to check every source now. */
export async function runRefreshCommand(stateDir: string, options: { allowMassDelete?: boolean } = {}): Promise<number> {
  const client = await AgentClient.find(stateDir);
  if (!client) throw new CliError(`no agent is running on ${stateDir}`);
  await client.refresh(options);
  console.log("refreshed: every source was checked and what moved is being applied");
  return EXIT.ok;
}
