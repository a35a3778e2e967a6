import type { RevisionDiff, RevisionDiffFailure, RevisionDiffReport } from "../../agent/revision-diff.js";
import { diffAtRevision } from "../../agent/revision-diff.js";
import { FerryError, formatProblem } from "../../core/errors.js";
import { displayKey, shortRevision } from "../../core/ids.js";
import { formatDiffs } from "../../diff/format-diff.js";
import { AgentClient } from "../client.js";
import { CliError, EXIT } from "../exit-codes.js";
import type { ClusterFlags } from "./offline.js";
import { withLocalAgent } from "./offline.js";
import type { OutputFormat } from "../output.js";
import { isData, formatData } from "../output.js";

/**
 * `ferry diff [app] --revision <commit, branch or tag>`: what merging that
 * revision would change in each live environment, through the running agent
 * or in-process. Nothing is applied. Exit 0 when nothing would change, 1 when
 * something would or the revision does not render or validate, 2 when it
 * could not run (unknown revision or application, a source that failed).
 */
export async function runDiffRevisionCommand(stateDir: string, name: string | undefined, revision: string, output: OutputFormat, cluster: ClusterFlags = {}): Promise<number> {
  const client = await AgentClient.find(stateDir);
  const report = client
    ? await client.diffRevision(revision, name)
    : await withLocalAgent(stateDir, async (agent) => {
        try {
          return await diffAtRevision(agent, revision, name);
        } catch (error) {
          if (error instanceof FerryError && error.disposition === "stalled") throw new CliError(error.message);
          throw error;
        }
      }, cluster);
  if (isData(output)) console.log(formatData(toJson(report), output));
  else console.log(formatReport(report));
  const failures = report.applications.filter(isFailure);
  if (failures.some((f) => f.disposition !== "stalled")) return EXIT.error;
  if (failures.length > 0) return EXIT.failed;
  return report.applications.some((r) => !isFailure(r) && r.diffs.length > 0) ? EXIT.failed : EXIT.ok;
}

function isFailure(result: RevisionDiff | RevisionDiffFailure): result is RevisionDiffFailure {
  return "error" in result;
}

/** Per application: created, changed (with the fields) and pruned, for scripts. */
function toJson(report: RevisionDiffReport): unknown {
  return {
    revision: report.revision,
    applications: report.applications.map((r) => {
      if (isFailure(r)) return { ...r, problems: r.problems.map(formatProblem) };
      return {
        name: r.name,
        revision: r.revision,
        ...(r.ref !== undefined ? { ref: r.ref } : {}),
        newApplication: r.newApplication,
        changes: r.diffs.length > 0,
        created: r.diffs.filter((d) => d.type === "missing").map((d) => d.key),
        changed: r.diffs.filter((d) => d.type === "changed").map((d) => ({ key: d.key, differences: d.differences })),
        pruned: r.diffs.filter((d) => d.type === "orphan").map((d) => d.key),
        kept: r.kept,
      };
    }),
    skipped: report.skipped,
  };
}

function formatReport(report: RevisionDiffReport): string {
  const lines: string[] = [];
  for (const r of report.applications) {
    if (isFailure(r)) {
      const what = r.disposition === "stalled" ? `would not sync at ${report.revision}` : `cannot diff at ${report.revision}`;
      lines.push(`${r.name}: ${what}: ${r.error}`);
      for (const p of r.problems.length > 1 ? r.problems : []) lines.push(`  ${formatProblem(p)}`);
      continue;
    }
    const at = `at ${shortRevision(r.revision)}${r.ref !== undefined ? ` (${r.ref})` : ""}`;
    const count = (type: string): number => r.diffs.filter((d) => d.type === type).length;
    const summary = `${count("missing")} created, ${count("changed")} changed, ${count("orphan")} pruned`;
    const header = r.newApplication ? `${r.name}: new application (not in the running configuration) ${at}: ${summary}` : `${r.name} ${at}: ${r.diffs.length === 0 ? "nothing would change" : summary}`;
    lines.push(header);
    if (r.diffs.length > 0) lines.push(indent(formatDiffs(r.diffs)));
    if (r.kept.length > 0) lines.push(`  kept (left Git, not pruned by this application's policy): ${r.kept.map(displayKey).join(", ")}`);
  }
  for (const s of report.skipped) lines.push(`${s.name}: skipped: ${s.reason}`);
  return lines.join("\n");
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n");
}
