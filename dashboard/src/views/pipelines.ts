import type { EnvironmentView, GateView, PipelineView } from "../../../src/promote/pipeline-view.js";
import type { Context, View } from "../context.js";
import { h, replace } from "../dom.js";
import { badge, short, time } from "../format.js";

const PHASE_TONE: Readonly<Record<string, string>> = {
  Passed: "good",
  Failed: "bad",
  Held: "warn",
  AwaitingApproval: "warn",
  AwaitingPromotion: "warn",
  Waiting: "muted",
};
const GATE_TONE: Readonly<Record<GateView["state"], string>> = { passed: "good", failed: "bad", waiting: "busy", pending: "muted" };

/**
 * Every pipeline, its environments side by side: the version each one's files
 * hold, where the promotion stands, each gate, and (with the admin token) an
 * Approve button where a version waits for a person. Promotion moves on timers
 * as well as on syncs, so the view asks again every two seconds.
 */
export const pipelinesView: View = (main, context) => {
  const body = h("div");
  main.append(
    h("section", { class: "toolbar" }, h("h1", null, "Pipelines")),
    h("p", { class: "muted" }, "Versions move left to right through Git; each environment's gates must pass before the next one gets the version."),
    body,
  );
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const load = async (): Promise<void> => {
    clearTimeout(timer);
    try {
      const { pipelines } = await context.api.pipelines();
      if (stopped) return;
      replace(body, pipelines.length === 0 ? h("p", { class: "card muted" }, "No Pipeline documents in the configuration.") : pipelines.map((p) => pipelineCard(p, context, load)));
    } catch (error) {
      if (!stopped) replace(body, h("p", { class: "card error" }, (error as Error).message));
    }
    if (!stopped) timer = setTimeout(() => void load(), 2000);
  };
  void load();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
};

function pipelineCard(pipeline: PipelineView, context: Context, reload: () => Promise<void>): HTMLElement {
  const p = pipeline.promotion;
  return h(
    "section",
    { class: "card pipeline", "data-pipeline": pipeline.name },
    h("h2", null, pipeline.name, pipeline.watch ? h("span", { class: "muted small" }, ` ${pipeline.watch}`) : null),
    p ? h("p", { class: "small" }, "Promotion of ", h("strong", null, p.version), " started ", time(p.startedAt), ` by ${p.startedBy}`, p.outcome ? [" — ", badge(p.outcome, p.outcome === "Succeeded" ? "good" : "bad")] : null) : null,
    h("p", { class: "summary", "data-testid": "summary" }, pipeline.summary),
    pipeline.watchError ? h("p", { class: "error small" }, `watch: ${pipeline.watchError}`) : null,
    h("div", { class: "environments" }, pipeline.environments.map((e) => environmentBox(pipeline.name, e, context, reload))),
  );
}

function environmentBox(pipeline: string, env: EnvironmentView, context: Context, reload: () => Promise<void>): HTMLElement {
  const approve =
    context.scope === "admin" && env.phase === "AwaitingApproval"
      ? h("button", {
          type: "button",
          onclick: (event: Event) => {
            const button = event.currentTarget as HTMLButtonElement;
            button.disabled = true;
            context.api.approve(pipeline, env.environment).then(
              () => void reload(),
              (error: unknown) => {
                button.disabled = false;
                button.after(h("p", { class: "error small" }, (error as Error).message));
              },
            );
          },
        }, `Approve ${env.environment}`)
      : null;
  return h(
    "div",
    { class: "environment", "data-env": env.environment },
    h("h3", null, env.environment, h("span", { class: "muted small" }, ` ${env.application}`)),
    h("p", { class: "version", "data-testid": "version" }, env.version ?? "(not marked)"),
    h("p", null, h("span", { "data-testid": "phase" }, badge(env.phase, PHASE_TONE[env.phase] ?? "busy", env.reason)), env.reason ? h("span", { class: "muted small" }, env.reason) : null),
    env.message ? h("p", { class: "small message" }, env.message) : null,
    env.commit ? h("p", { class: "small muted" }, `commit ${short(env.commit)}${env.branch ? ` on ${env.branch}` : ""}`) : null,
    env.approvedBy ? h("p", { class: "small muted" }, `approved by ${env.approvedBy} `, time(env.approvedAt)) : null,
    env.hold
      ? h("p", { class: "small hold", "data-testid": "hold" }, badge("held", "warn", env.hold.reason), ` since `, time(env.hold.since), `${env.hold.by ? ` by ${env.hold.by}` : ""}: ${env.hold.reason}; lift it with `, h("code", null, env.hold.release))
      : null,
    env.suspension
      ? h("p", { class: "small", "data-testid": "suspension" }, badge("suspended", "warn"), ` by ${env.suspension.by} `, time(env.suspension.at), env.suspension.reason ? `: ${env.suspension.reason}` : "", "; ", h("code", null, `ferry resume ${env.application}`))
      : null,
    h("ul", { class: "gates" }, env.gates.map((g) => h("li", { "data-gate": g.gate }, badge(g.state, GATE_TONE[g.state], g.detail), ` ${g.gate}`, g.detail ? h("span", { class: "muted small" }, ` ${g.detail}`) : null))),
    env.verification
      ? h(
          "p",
          { class: "small muted", "data-testid": "verification" },
          `run ${env.verification.runId} of ${env.verification.job}: ${env.verification.status} `,
          time(env.verification.finishedAt ?? env.verification.startedAt),
          env.verification.output ? h("pre", { class: "small" }, env.verification.output) : null,
        )
      : null,
    approve,
  );
}
