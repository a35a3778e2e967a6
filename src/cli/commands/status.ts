import type { ConfigStatus } from "../../agent/agent.js";
import { FileRecordStore } from "../../state/file-record-store.js";
import { SuspensionFile } from "../../agent/suspensions.js";
import { withSuspension } from "../../engine/lifecycle.js";
import { findCondition } from "../../core/conditions.js";
import { AgentClient } from "../client.js";
import { CliError, EXIT } from "../exit-codes.js";
import { formatConfig, formatStatusDetail, formatStatusTable } from "../format.js";
import type { HoldStatus } from "../../engine/status.js";
import { holdStatuses } from "../../agent/holds.js";
import { openHistoryOf } from "./history.js";

/**
 * `ferry status [app]`: from the running agent, or from the records in the
 * state directory when no agent runs. Exit 1 when an application is not Ready.
 */
export async function runStatusCommand(stateDir: string, name: string | undefined, output: "text" | "json"): Promise<number> {
  const client = await AgentClient.find(stateDir);
  let statuses;
  let config: ConfigStatus | undefined;
  let header = "";
  if (client) {
    const list = await client.applications();
    statuses = list.applications;
    // Unpaged (the client asks for every application), so the names are there.
    config = { ...list.config, applications: list.config.applications ?? list.applications.map((a) => a.name) };
    header = formatConfig(config);
  } else {
    // A suspension made while no agent ran is in suspensions.json, not yet in the records.
    const suspensions = await new SuspensionFile(stateDir).load();
    const holds = await recordedHolds(stateDir);
    statuses = (await new FileRecordStore(stateDir).list()).map((r) => {
      const status = withSuspension(r, suspensions.get(r.name), new Date()).status;
      const hold = holds.get(r.name);
      return hold ? { ...status, hold } : status;
    });
    header = `no agent is running on ${stateDir}; showing the last recorded status`;
  }
  if (name) statuses = statuses.filter((s) => s.name === name);
  if (name && statuses.length === 0) throw new CliError(`unknown application ${JSON.stringify(name)}`);
  // Scripts see a rejected configuration too: `config` is there whenever an agent answered.
  if (output === "json") console.log(JSON.stringify(name ? statuses[0] : { ...(config ? { config } : {}), applications: statuses }, null, 2));
  else {
    if (header) console.error(header);
    console.log(name && statuses[0] ? formatStatusDetail(statuses[0]) : formatStatusTable(statuses));
  }
  return statuses.every((s) => findCondition(s.conditions, "Ready")?.status === "True") ? EXIT.ok : EXIT.failed;
}

/** The holds in the history the agent writes, when there is one yet (a rollback made while no agent ran is held too). */
async function recordedHolds(stateDir: string): Promise<ReadonlyMap<string, HoldStatus>> {
  let store;
  try {
    store = await openHistoryOf(stateDir, undefined);
  } catch {
    return new Map();
  }
  try {
    return (await holdStatuses(store)).statuses;
  } finally {
    await store.close();
  }
}
