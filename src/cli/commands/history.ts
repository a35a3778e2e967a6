import { existsSync } from "node:fs";
import { loadAgentSettings } from "../../agent/state-dir.js";
import { defaultHistoryUrl, openHistory } from "../../history/open-history.js";
import type { HistoryParams } from "../../history/query-params.js";
import { deploymentQueryOf, historyQueryOf, InvalidHistoryParam } from "../../history/query-params.js";
import type { HistoryStore } from "../../history/types.js";
import { CliError, EXIT } from "../exit-codes.js";
import { formatDeployments, formatHistory } from "../format-history.js";
import type { OutputFormat } from "../output.js";
import { isData, formatData } from "../output.js";

/** Options of `ferry history`. */
export interface HistoryCommandOptions extends Omit<HistoryParams, "application"> {
  readonly history?: string;
  readonly output: OutputFormat;
}

/**
 * `ferry history [app]`: the ledger, newest first. With `--version`, every
 * environment where that version ran, from when to when and who put it there;
 * with `--at`, what was running at that time.
 */
export async function runHistoryCommand(stateDir: string, application: string | undefined, options: HistoryCommandOptions): Promise<number> {
  const params: HistoryParams = { ...options, ...(application !== undefined ? { application } : {}) };
  const store = await openHistoryOf(stateDir, options.history);
  try {
    const now = new Date();
    const again = (next: number): string => `${commandLine(application, options)} --before ${next}`;
    if (options.at !== undefined || options.version !== undefined) {
      const query = deploymentQueryOf(params, now);
      const page = await store.deployments(query);
      if (isData(options.output)) console.log(formatData(page, options.output));
      else {
        const heading = query.at
          ? `running at ${query.at.toISOString()}${options.version !== undefined ? ` with version ${options.version}` : ""}`
          : `version ${options.version ?? ""} ran`;
        console.log(formatDeployments(page, heading, again, { wide: options.output === "wide" }));
      }
      return EXIT.ok;
    }
    const page = await store.events(historyQueryOf(params, now));
    if (isData(options.output)) console.log(formatData(page, options.output));
    else console.log(formatHistory(page, again, { wide: options.output === "wide" }));
    return EXIT.ok;
  } catch (error) {
    if (error instanceof InvalidHistoryParam) throw new CliError(`--${error.message}`);
    throw error;
  } finally {
    await store.close();
  }
}

/** Opens the history an agent on this state directory writes (or the one named). */
export async function openHistoryOf(stateDir: string, url: string | undefined): Promise<HistoryStore> {
  const settings = await loadAgentSettings(stateDir);
  const location = url ?? process.env.FERRY_HISTORY_URL ?? settings?.history ?? defaultHistoryUrl(stateDir);
  if (location.startsWith("sqlite:") && !existsSync(location.slice("sqlite:".length))) {
    throw new CliError(`no history at ${location.slice("sqlite:".length)} yet: ferry agent writes it as it syncs`);
  }
  try {
    return await openHistory(location);
  } catch (error) {
    throw new CliError((error as Error).message);
  }
}

function commandLine(application: string | undefined, options: HistoryCommandOptions): string {
  const flags = (["environment", "version", "outcome", "type", "revision", "since", "until", "at", "limit"] as const).flatMap((k) => {
    const value = options[k];
    return value === undefined ? [] : [`--${k === "environment" ? "env" : k} ${/^[\w.:,-]+$/.test(value) ? value : JSON.stringify(value)}`];
  });
  return ["ferry history", ...(application ? [application] : []), ...flags].join(" ");
}
