import { dashboardUrl, readAgentInfo } from "../../agent/state-dir.js";
import { CliError, EXIT } from "../exit-codes.js";
import type { OutputFormat } from "../output.js";
import { formatData, isData } from "../output.js";

/**
 * `ferry dashboard`: the link to the running agent's dashboard, with the read
 * token in its fragment (never sent to the server), or with `--admin` the
 * admin token, whose page can act (sync, rollback, release, approve).
 */
export async function runDashboardCommand(stateDir: string, options: { admin?: boolean; output?: OutputFormat }): Promise<number> {
  const info = await readAgentInfo(stateDir);
  if (!info) throw new CliError(`no agent is running on ${stateDir}: start one with ferry agent --repo <repository>`);
  const token = options.admin ? info.token : (info.readToken ?? info.token);
  const url = dashboardUrl(info.url, token);
  console.log(options.output && isData(options.output) ? formatData({ url, admin: options.admin === true }, options.output) : url);
  return EXIT.ok;
}
