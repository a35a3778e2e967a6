import { shortRevision } from "../core/ids.js";
import type { PipelineView } from "../promote/pipeline-view.js";
import type { PromotionRecord } from "../promote/promotion-state.js";

const MARK: Readonly<Record<string, string>> = { passed: "ok", failed: "FAILED", waiting: "waiting", pending: "-" };

/**
 * A pipeline for people: what is in flight, then one block per environment
 * with the version its files hold, where the promotion stands and each gate.
 */
export function formatPipeline(view: PipelineView): string {
  const lines = [`pipeline ${view.name}${view.watch ? ` (${view.watch})` : ""}`];
  if (view.promotion) {
    const p = view.promotion;
    lines.push(`  promotion: ${p.version}, started ${p.startedAt} by ${p.startedBy}${p.outcome ? `, ${p.outcome} ${p.finishedAt ?? ""}` : ""}`);
  }
  if (view.watchError) lines.push(`  watch error: ${view.watchError}`);
  lines.push(`  ${view.summary}`);
  for (const env of view.environments) {
    lines.push("", `  ${env.environment} (${env.application}): version ${env.version ?? "(not marked)"}  ${env.phase}${env.reason ? ` [${env.reason}]` : ""}`);
    if (env.message) lines.push(`    ${env.message}`);
    if (env.commit) lines.push(`    commit ${shortRevision(env.commit)}${env.branch ? ` on ${env.branch}` : ""}`);
    if (env.approvedBy) lines.push(`    approved by ${env.approvedBy} at ${env.approvedAt ?? ""}`);
    if (env.hold) lines.push(`    on hold since ${env.hold.since}${env.hold.by ? ` by ${env.hold.by}` : ""}: ${env.hold.reason} (${env.hold.release})`);
    if (env.suspension) lines.push(`    suspended by ${env.suspension.by} at ${env.suspension.at}${env.suspension.reason ? `: ${env.suspension.reason}` : ""} (ferry resume ${env.application})`);
    const run = env.verification;
    const detailOf = (g: PipelineView["environments"][number]["gates"][number]): string | undefined =>
      g.gate === "verify" && run ? [g.detail, `run ${run.runId} ${run.status} at ${run.finishedAt ?? run.startedAt}`].filter(Boolean).join(", ") : g.detail;
    lines.push(`    gates: ${env.gates.map((g) => `${g.gate} ${MARK[g.state] ?? g.state}${detailOf(g) ? ` (${detailOf(g) ?? ""})` : ""}`).join(", ")}`);
    if (run?.status === "failed" && run.output) lines.push(`    output of run ${run.runId} (${run.name}):`, ...run.output.split("\n").map((l) => `    ${l}`));
  }
  return lines.join("\n");
}

/** A promotion as promote and approve print it: one line per environment. */
export function formatPromotion(record: PromotionRecord): string {
  return record.steps.map((s) => `  ${s.environment}: ${s.phase}${s.message ? ` (${s.message})` : ""}`).join("\n");
}
