import type { PipelineView } from "../../promote/pipeline-view.js";
import type { PromotionRecord } from "../../promote/promotion-state.js";
import { AgentClient } from "../client.js";
import { CliError, EXIT } from "../exit-codes.js";
import { formatPipeline, formatPromotion } from "../format-pipeline.js";
import { gitIdentity } from "./rollback.js";
import type { OutputFormat } from "../output.js";
import { isData, formatData } from "../output.js";

/** The running agent's client; promotion lives in the agent, so there is no offline mode. */
async function agentClient(stateDir: string): Promise<AgentClient> {
  const client = await AgentClient.find(stateDir);
  if (!client) throw new CliError(`no agent is running on ${stateDir}: promotions run in the agent; start one with ferry agent --repo <repository>`);
  return client;
}

async function who(): Promise<string> {
  const identity = await gitIdentity();
  return `${identity.name} <${identity.email}>`;
}

/** `ferry promote <pipeline|app> --to <env> [--version v]` */
export async function runPromoteCommand(stateDir: string, target: string, options: { to: string; version?: string; set: readonly string[]; output: OutputFormat }): Promise<number> {
  const set: Record<string, string> = {};
  for (const pair of options.set) {
    const match = /^([A-Za-z0-9][-A-Za-z0-9_.]*)=(.*)$/s.exec(pair);
    if (!match) throw new CliError(`--set ${JSON.stringify(pair)}: expected field=value, e.g. --set digest=sha256:...`);
    set[match[1] ?? ""] = match[2] ?? "";
  }
  if (Object.keys(set).length > 0 && options.version === undefined) throw new CliError("--set goes with --version: the values of that version");
  const client = await agentClient(stateDir);
  const record = await client.promote(target, { to: options.to, by: await who(), set, ...(options.version !== undefined ? { version: options.version } : {}) });
  print(record, options.output, `promoting ${record.pipeline} ${record.version} into ${options.to}`);
  return EXIT.ok;
}

/** `ferry approve <pipeline> --env <env>` */
export async function runApproveCommand(stateDir: string, pipeline: string, options: { env: string; output: OutputFormat }): Promise<number> {
  const client = await agentClient(stateDir);
  const record = await client.approve(pipeline, { environment: options.env, by: await who() });
  print(record, options.output, `approved ${record.pipeline} ${record.version} into ${options.env}`);
  return EXIT.ok;
}

/** `ferry pipeline status [name]`: exit 1 when a promotion stopped at a failed gate. */
export async function runPipelineStatusCommand(stateDir: string, name: string | undefined, options: { output: OutputFormat }): Promise<number> {
  const client = await agentClient(stateDir);
  const pipelines: readonly PipelineView[] = name !== undefined ? [await client.pipeline(name)] : (await client.pipelines()).pipelines;
  if (isData(options.output)) console.log(formatData(name !== undefined ? pipelines[0] : { pipelines }, options.output));
  else if (pipelines.length === 0) console.log("no pipelines in the configuration");
  else console.log(pipelines.map(formatPipeline).join("\n\n"));
  return pipelines.some((p) => p.promotion?.outcome === "Failed") ? EXIT.failed : EXIT.ok;
}

function print(record: PromotionRecord, output: OutputFormat, headline: string): void {
  if (isData(output)) console.log(formatData(record, output));
  else console.log(`${headline}\n${formatPromotion(record)}`);
}
