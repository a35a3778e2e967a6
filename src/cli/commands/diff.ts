import type { DiffView } from "../../diff/format-diff.js";
import { isChange, toDiffView } from "../../diff/format-diff.js";
import { toFerryError } from "../../core/errors.js";
import { formatProblem } from "../../core/errors.js";
import { AgentClient } from "../client.js";
import { CliError, EXIT } from "../exit-codes.js";
import { formatDiffs } from "../format.js";
import type { ClusterFlags } from "./offline.js";
import { withLocalAgent } from "./offline.js";
import type { OutputFormat } from "../output.js";
import { isData, formatData } from "../output.js";

/**
 * `ferry diff [app]`: what a sync would change in each application now.
 * Differences that ignore rules hide are listed but change nothing.
 * Exit 0 when nothing would change, 1 when something would, 2 when it cannot tell.
 */
export async function runDiffCommand(stateDir: string, name: string | undefined, output: OutputFormat, cluster: ClusterFlags = {}): Promise<number> {
  const client = await AgentClient.find(stateDir);
  const results = client
    ? await diffThroughAgent(client, name)
    : await withLocalAgent(stateDir, async (agent) => {
        const names = name ? [name] : agent.engine.applications().map((a) => a.name);
        const out: DiffResult[] = [];
        for (const n of names) {
          if (!agent.engine.applications().some((a) => a.name === n)) throw new CliError(`unknown application ${JSON.stringify(n)}`);
          try {
            const diffs = await agent.engine.diff(n);
            out.push({ name: n, diffs: diffs.map(toDiffView) });
          } catch (error) {
            const e = toFerryError(error);
            out.push({ name: n, error: e.message, problems: e.problems.map(formatProblem) });
          }
        }
        return out;
      }, cluster);
  if (isData(output)) console.log(formatData({ applications: results }, output));
  else {
    for (const r of results) {
      if ("error" in r) console.log(`${r.name}: cannot diff: ${r.error}${r.problems.length > 1 ? "\n  " + r.problems.join("\n  ") : ""}`);
      else if (r.diffs.length === 0) console.log(`${r.name}: in sync`);
      else if (!r.diffs.some(isChange)) console.log(`${r.name}: in sync; ignore rules hide these differences:\n${indent(formatDiffs(r.diffs))}`);
      else console.log(`${r.name}:\n${indent(formatDiffs(r.diffs))}`);
    }
  }
  if (results.some((r) => "error" in r)) return EXIT.error;
  return results.some((r) => "diffs" in r && r.diffs.some(isChange)) ? EXIT.failed : EXIT.ok;
}

type DiffResult = { name: string; diffs: readonly DiffView[] } | { name: string; error: string; problems: readonly string[] };

async function diffThroughAgent(client: AgentClient, name: string | undefined): Promise<DiffResult[]> {
  const names = name ? [name] : (await client.applications()).applications.map((a) => a.name);
  const out: DiffResult[] = [];
  for (const n of names) {
    const res = await client.diff(n);
    out.push("error" in res ? { name: n, error: res.error, problems: res.problems.map(formatProblem) } : { name: n, diffs: res.diffs });
  }
  return out;
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n");
}
