// The controller against real Git: bumps committed and pushed, holds honoured,
// a rejected push and a missing marker stop the step with the reason, pull
// requests go to a branch, a restart resumes. The environments' sync is played
// by the test (the scenario in test/scenario/promotion.test.ts runs the real agent).
import assert from "node:assert/strict";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import type { Application } from "../config/application.js";
import type { Pipeline, PipelineStep } from "../config/pipeline.js";
import { resourceKey } from "../core/ids.js";
import type { Revision } from "../core/ids.js";
import type { ApplicationStatus } from "../engine/status.js";
import { initialStatus } from "../engine/status.js";
import type { HistoryEventInput, Hold } from "../history/types.js";
import { SourceRegistry } from "../source/source-registry.js";
import { TestRepository } from "../../test/support/test-repository.js";
import { createSshKey } from "../../test/support/test-signing.js";
import type { Watcher } from "../watch/watcher.js";
import type { PromotionHost } from "./controller.js";
import { PromotionController } from "./controller.js";
import { promotionAlertOf } from "../notify/alerts.js";
import { Notifier } from "../notify/notifier.js";
import type { PromotionRecord } from "./promotion-state.js";
import type { JobRun, JobRunRequest } from "../targets/target.js";

const ENVS = ["dev", "acc"] as const;

function manifest(env: string, version: string): string {
  return `# ${env}\nkind: Service\nmetadata:\n  name: web-${env}\nspec:\n  env:\n    VERSION: "${version}" # ferry:set web:version\n    URL: /srv/web-${version}.tgz # ferry:set web:url\n`;
}

function stepOf(env: string, index: number, over: Partial<PipelineStep> = {}): PipelineStep {
  return { environment: env, application: `web-${env}`, promotion: "automatic", approval: false, verify: { job: "smoke", http: [], timeoutMs: 60_000 }, soakMs: 0, onFailure: "stop", index, ...over };
}

/** The agent's side, played by the test: applications, their status as the test sets it, holds, the history. */
class World implements PromotionHost {
  readonly events: HistoryEventInput[] = [];
  readonly statuses = new Map<string, ApplicationStatus>();
  holdList: Hold[] = [];
  pipeline: Pipeline;
  readonly registry: SourceRegistry;
  rolledBack: string[] = [];

  constructor(
    readonly repo: TestRepository,
    cache: string,
    steps: readonly PipelineStep[],
    write: Pipeline["write"] = { mode: "push", minIntervalMs: 0 },
  ) {
    this.registry = new SourceRegistry(cache);
    this.pipeline = { name: "web", steps, write, origin: { file: "ferry/pipeline.yaml", line: 1, column: 1, document: 0, positions: {} } };
  }

  pipelines(): readonly Pipeline[] {
    return [this.pipeline];
  }
  application(name: string): Application | undefined {
    const env = name.replace(/^web-/, "");
    return { name, spec: { source: { path: `apps/web/${env}` }, target: "host", syncPolicy: { automated: true, prune: true, selfHeal: true, interval: 60_000 }, dependsOn: [], suspend: false, environment: env }, origin: { file: "x", line: 1, column: 1, document: 0, positions: {} } };
  }
  status(name: string): ApplicationStatus | undefined {
    return this.statuses.get(name) ?? initialStatus(name, "host");
  }
  fetcher(): ReturnType<SourceRegistry["fetcher"]> {
    return this.registry.fetcher(this.repo.directory, "main");
  }
  repository(): { url: string; ref: string } {
    return { url: this.repo.directory, ref: "main" };
  }
  holds(): Promise<readonly Hold[]> {
    return Promise.resolve(this.holdList);
  }
  record(event: HistoryEventInput): void {
    this.events.push(event);
  }
  rollback(application: string): Promise<void> {
    this.rolledBack.push(application);
    return Promise.resolve();
  }
  async refresh(): Promise<void> {
    await this.fetcher().refresh();
  }
  promotionFinished(): void {}
  /** How the next runs of the verification job end. */
  runOutcome: JobRun["status"] = "succeeded";
  readonly runs: { application: string; job: string; request: JobRunRequest }[] = [];
  runJob(application: string, job: string, request: JobRunRequest): Promise<{ key: string; run: JobRun }> {
    this.runs.push({ application, job, request });
    return Promise.resolve({ key: resourceKey("host.ferry.dev/v1", "Job", job), run: this.#run(request.id) });
  }
  jobRun(_application: string, _key: string, id: string): Promise<JobRun | undefined> {
    return Promise.resolve(this.runs.some((r) => r.request.id === id) ? this.#run(id) : undefined);
  }
  #run(id: string): JobRun {
    const message = this.runOutcome === "failed" ? "exited with code 1" : this.runOutcome;
    return { id, name: `runs/smoke/${id}.log`, status: this.runOutcome, startedAt: new Date().toISOString(), message, ...(this.runOutcome === "failed" ? { output: "  smoke test failed: 500" } : {}) };
  }
  readonly changes: { record: PromotionRecord; index: number }[] = [];
  /** Where step changes go besides `changes`: a notifier, in the test that sends them. */
  onStep: ((record: PromotionRecord, index: number) => void) | undefined;
  stepChanged(record: PromotionRecord, index: number): void {
    this.changes.push({ record, index });
    this.onStep?.(record, index);
  }

  /** Plays the engine: the application synced the branch head, healthy, its smoke job ended as given. */
  async synced(env: string, job: "Healthy" | "Degraded" = "Healthy"): Promise<void> {
    const { artifact } = await this.fetcher().refresh();
    const base = initialStatus(`web-${env}`, "host");
    this.statuses.set(`web-${env}`, {
      ...base,
      conditions: [{ type: "Ready", status: job === "Healthy" ? "True" : "False", reason: "Synced", message: "", lastTransitionTime: new Date().toISOString() }],
      sync: { status: "Synced", revision: artifact.revision as Revision },
      health: job === "Healthy" ? { status: "Healthy", message: "all objects are healthy" } : { status: "Degraded", message: "Job/smoke: exited with code 1" },
      inventory: [{ key: resourceKey("host.ferry.dev/v1", "Job", "smoke"), health: job === "Healthy" ? { status: "Healthy", message: "completed" } : { status: "Degraded", message: "exited with code 1" } }],
      lastSync: {
        revision: artifact.revision as Revision,
        trigger: "revision",
        startedAt: "",
        finishedAt: "",
        outcome: job === "Healthy" ? "Succeeded" : "Failed",
        reason: "",
        message: job === "Healthy" ? "" : "Job/smoke: exited with code 1",
        changeSet: { created: [], configured: [], unchanged: [], deleted: [], failed: [] },
      },
    });
  }
}

describe("promotion controller", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "ferry-promote-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function setup(name: string, steps: readonly PipelineStep[], write?: Pipeline["write"]) {
    const repo = await TestRepository.create();
    const initial = await repo.commit(Object.fromEntries(ENVS.map((e) => [`apps/web/${e}/web.yaml`, manifest(e, "1.0.0")])), "web 1.0.0");
    const world = new World(repo, join(dir, name, "cache"), steps, write);
    await world.fetcher().refresh();
    const options = { stateDir: join(dir, name, "state"), workDir: join(dir, name, "work"), tickMs: 60_000, author: { name: "Ferry Test", email: "t@ferry.invalid" } };
    const controller = new PromotionController(world, options);
    await controller.start();
    const tick = async (): Promise<void> => {
      controller.poke();
      await controller.settle();
    };
    return { repo, world, controller, tick, initial, options };
  }

  it("writes a version into dev, promotes it to acc once dev passed, and waits for a manual step", async (t) => {
    const { repo, world, controller, tick, initial } = await setup("flow", [stepOf("dev", 0), stepOf("acc", 1, { promotion: "manual" })]);
    t.after(() => controller.stop());
    t.after(() => repo.remove());
    // The version alone would run the old artifact under the new name.
    await assert.rejects(
      controller.promote({ target: "web", to: "dev", version: "2.0.0", by: "Ann" }),
      /dev marks url besides the version, and nothing says what they are for 2.0.0: give them with --set url=\.\.\./,
    );
    await controller.promote({ target: "web", to: "dev", version: "2.0.0", set: { url: "/srv/web-2.0.0.tgz" }, by: "Ann <ann@x>" });
    await tick();
    assert.equal(controller.promotions()["web"]?.steps[0]?.phase, "Syncing");
    assert.match(await repo.git("show", "HEAD:apps/web/dev/web.yaml"), /VERSION: "2.0.0" # ferry:set web:version\n {4}URL: \/srv\/web-2.0.0.tgz # ferry:set web:url/);
    assert.equal(await repo.git("show", "HEAD:apps/web/acc/web.yaml"), manifest("acc", "1.0.0"));
    const message = await repo.git("log", "-1", "--format=%B");
    assert.match(message, /^Promote web 2.0.0 into dev\n\n- apps\/web\/dev: url=\/srv\/web-2.0.0.tgz, version=2.0.0 \(new version\)\n\nFerry-Promotion-Pipeline: web\nFerry-Promotion-Version: 2.0.0\nFerry-Promotion-To: dev/);
    assert.equal((await repo.git("log", "-1", "--format=%an")).trim(), "Ferry Test");

    // acc is not touched before dev passed its gates.
    await tick();
    assert.equal(controller.promotions()["web"]?.steps[1]?.phase, "Waiting");
    await world.synced("dev");
    await tick();
    const record = controller.promotions()["web"];
    assert.equal(record?.steps[0]?.phase, "Passed");
    assert.equal(record?.steps[1]?.phase, "AwaitingPromotion");
    await assert.rejects(controller.approve("web", "acc", "Bob"), /nothing waits for approval in acc/);
    await controller.promote({ target: "web-acc", to: "acc", by: "Bob <bob@x>" });
    await tick();
    assert.equal(controller.promotions()["web"]?.steps[1]?.phase, "Syncing");
    assert.match(await repo.git("show", "HEAD:apps/web/acc/web.yaml"), /VERSION: "2.0.0"/);
    assert.equal((await repo.git("log", "-1", "--format=%s")).trim(), "Promote web 2.0.0 from dev to acc");
    assert.equal((await repo.git("rev-list", "--count", `${initial}..HEAD`)).trim(), "2");
    assert.deepEqual(
      world.events.map((e) => [e.type, e.environment, e.outcome]),
      [
        ["Promotion", "dev", "Succeeded"],
        ["PromotionGate", "dev", "Succeeded"],
        ["PromotionGate", "dev", "Succeeded"],
        ["Promotion", "acc", "Succeeded"],
      ],
    );
  });

  it("stops at a failed smoke test and promotes nothing past it; a manual promote is refused", async (t) => {
    const { repo, world, controller, tick } = await setup("failing", [stepOf("dev", 0), stepOf("acc", 1)]);
    t.after(() => controller.stop());
    t.after(() => repo.remove());
    await controller.promote({ target: "web", to: "dev", version: "3.0.0", set: { url: "/srv/web-3.0.0.tgz" }, by: "ci" });
    await tick();
    await world.synced("dev", "Degraded");
    await tick();
    const record = controller.promotions()["web"];
    assert.equal(record?.outcome, "Failed");
    assert.deepEqual([record?.steps[0]?.phase, record?.steps[0]?.reason, record?.steps[1]?.phase], ["Failed", "VerificationFailed", "Waiting"]);
    await assert.rejects(controller.promote({ target: "web", to: "acc", by: "Bob" }), /3.0.0 has not passed dev \(Failed: smoke test job smoke failed in dev: exited with code 1\)/);
    await tick();
    assert.match(await repo.git("show", "HEAD:apps/web/acc/web.yaml"), /VERSION: "1.0.0"/);
    assert.equal(world.events.at(-1)?.reason, "VerificationFailed");
    assert.deepEqual(world.rolledBack, [], "onFailure: stop rolls nothing back");
    const alerts = world.changes.flatMap(({ record: r, index }) => promotionAlertOf(r, index, new Date()) ?? []);
    assert.deepEqual(
      alerts.map((a) => [a.event, a.pipeline, a.version, a.environment, a.reason, a.message]),
      [["PromotionFailed", "web", "3.0.0", "dev", "VerificationFailed", "web 3.0.0 stopped in dev: smoke test job smoke failed in dev: exited with code 1"]],
      "one alert for the failed gate, none for the steps that only moved on",
    );
  });

  it("judges each version by a run of the smoke test started for it, not by the Job's health from an earlier version", async (t) => {
    const { repo, world, controller, tick } = await setup("runs", [stepOf("dev", 0), stepOf("acc", 1)]);
    t.after(() => controller.stop());
    t.after(() => repo.remove());
    await controller.promote({ target: "web", to: "dev", version: "2.0.0", set: { url: "/srv/web-2.0.0.tgz" }, by: "ci" });
    await tick();
    // The Job in the inventory is Healthy (its last run, for 1.0.0); the run for 2.0.0 is still going.
    world.runOutcome = "running";
    await world.synced("dev");
    await tick();
    const verifying = controller.promotions()["web"]?.steps[0];
    assert.equal(verifying?.phase, "Verifying");
    assert.deepEqual(world.runs.map((r) => [r.application, r.job, r.request.env["FERRY_VERSION"], r.request.env["FERRY_ENVIRONMENT"]]), [["web-dev", "smoke", "2.0.0", "dev"]]);
    assert.match(verifying?.verification?.runId ?? "", /^2-0-0-[0-9a-f]{6}$/);
    assert.equal(world.runs[0]?.request.env["FERRY_RUN_ID"], verifying?.verification?.runId);
    // It fails: the step fails with the run's output, and the history keeps the run.
    world.runOutcome = "failed";
    await tick();
    const failed = controller.promotions()["web"]?.steps[0];
    assert.equal(failed?.phase, "Failed");
    assert.match(failed?.message ?? "", /^smoke test job smoke failed in dev: exited with code 1 \(run 2-0-0-[0-9a-f]{6}\); last output:\n {2}smoke test failed: 500$/);
    const gate = world.events.at(-1);
    assert.deepEqual((gate?.details as { run?: Record<string, string> } | undefined)?.run?.["output"], "  smoke test failed: 500");
    assert.equal(world.runs.length, 1, "one run per step and version");
    // The next version gets a run of its own.
    world.runOutcome = "succeeded";
    await controller.promote({ target: "web", to: "dev", version: "2.0.1", set: { url: "/srv/web-2.0.1.tgz" }, by: "ci" });
    await tick();
    assert.equal(controller.promotions()["web"]?.steps[0]?.verification, undefined, "a new version forgets the last one's run");
    await world.synced("dev");
    await tick();
    assert.equal(controller.promotions()["web"]?.steps[0]?.phase, "Passed");
    assert.deepEqual(world.runs.map((r) => r.request.env["FERRY_VERSION"]), ["2.0.0", "2.0.1"]);
    assert.notEqual(world.runs[0]?.request.id, world.runs[1]?.request.id);
  });

  it("notifies a real webhook once when a version waits for approval, however often the gates are checked or the agent restarts", async (t) => {
    const received: { path: string; body: Record<string, unknown> }[] = [];
    const server = createServer((req, res) => {
      let text = "";
      req.on("data", (c: Buffer) => (text += c.toString()));
      req.on("end", () => {
        received.push({ path: req.url ?? "/", body: JSON.parse(text) as Record<string, unknown> });
        res.end("ok");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    t.after(() => {
      server.closeAllConnections();
      server.close();
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const notifier = new Notifier({ agent: "laptop", log: () => undefined });
    notifier.configure([
      { name: "approvers", type: "webhook", target: { url: `${url}/approvers` }, events: ["PromotionAwaitingApproval"] },
      { name: "chat", type: "slack", target: { url: `${url}/chat` }, events: ["PromotionAwaitingApproval", "PromotionSucceeded", "PromotionFailed"] },
    ]);
    const { repo, world, controller, tick, options } = await setup("approval-alert", [stepOf("dev", 0), stepOf("acc", 1, { approval: true })]);
    t.after(() => repo.remove());
    world.onStep = (r, index) => notifier.promotion(r, index);
    await controller.promote({ target: "web", to: "dev", version: "2.0.0", set: { url: "/srv/web-2.0.0.tgz" }, by: "ci" });
    await tick();
    await world.synced("dev");
    for (let i = 0; i < 3; i++) await tick();
    assert.equal(controller.promotions()["web"]?.steps[1]?.phase, "AwaitingApproval");
    await controller.stop();
    // A restarted agent finds the step still waiting: that is not news.
    const restarted = new PromotionController(world, options);
    await restarted.start();
    restarted.poke();
    await restarted.settle();
    await restarted.stop();
    await notifier.drain();
    const approvers = received.filter((r) => r.path === "/approvers");
    assert.equal(approvers.length, 1, "exactly one notification");
    assert.deepEqual(
      { ...approvers[0]?.body, at: undefined },
      {
        event: "PromotionAwaitingApproval",
        application: "web-acc",
        pipeline: "web",
        environment: "acc",
        version: "2.0.0",
        reason: "ApprovalRequired",
        message: "web 2.0.0 waits for approval into acc: ferry approve web --env acc",
        agent: "laptop",
        at: undefined,
      },
    );
    assert.deepEqual(
      received.filter((r) => r.path === "/chat").map((r) => r.body.text),
      [
        ":white_check_mark: *web* PromotionSucceeded (EnvironmentPassed): web 2.0.0 passed dev; next: acc (agent laptop)",
        ":hourglass: *web* PromotionAwaitingApproval (ApprovalRequired): web 2.0.0 waits for approval into acc: ferry approve web --env acc (agent laptop)",
      ],
    );
  });

  it("rolls the failed environment back when the pipeline says so", async (t) => {
    const { repo, world, controller, tick } = await setup("rollback", [stepOf("dev", 0, { onFailure: "rollback" }), stepOf("acc", 1)]);
    t.after(() => controller.stop());
    t.after(() => repo.remove());
    await controller.promote({ target: "web", to: "dev", version: "3.0.0", set: { url: "/srv/web-3.0.0.tgz" }, by: "ci" });
    await tick();
    await world.synced("dev", "Degraded");
    await tick();
    assert.deepEqual(world.rolledBack, ["web-dev"]);
    assert.ok(controller.promotions()["web"]?.steps[0]?.rolledBack);
  });

  it("never writes into an application on hold; it goes on when the hold is released", async (t) => {
    const { repo, world, controller, tick } = await setup("hold", [stepOf("dev", 0), stepOf("acc", 1, { verify: { http: [], timeoutMs: 60_000 } })]);
    t.after(() => controller.stop());
    t.after(() => repo.remove());
    world.holdList = [{ application: "web-acc", reason: "rolled back to 1.0.0", since: new Date().toISOString() }];
    await controller.promote({ target: "web", to: "dev", version: "2.0.0", set: { url: "/srv/web-2.0.0.tgz" }, by: "ci" });
    await tick();
    await world.synced("dev");
    await tick();
    const held = controller.promotions()["web"]?.steps[1];
    assert.equal(held?.phase, "Held");
    assert.match(held?.message ?? "", /web-acc is on hold: rolled back to 1.0.0 \(ferry release web-acc\)/);
    assert.match(await repo.git("show", "HEAD:apps/web/acc/web.yaml"), /VERSION: "1.0.0"/);
    world.holdList = [];
    await tick();
    await tick();
    assert.match(await repo.git("show", "HEAD:apps/web/acc/web.yaml"), /VERSION: "2.0.0"/);
  });

  it("a rejected push and a directory without markers stop the step with the reason", async (t) => {
    const { repo, controller, tick } = await setup("reject", [stepOf("dev", 0), stepOf("acc", 1)]);
    t.after(() => controller.stop());
    t.after(() => repo.remove());
    const hook = join(repo.directory, ".git", "hooks", "pre-receive");
    await writeFile(hook, "#!/bin/sh\necho 'protected branch: changes need review' >&2\nexit 1\n");
    await chmod(hook, 0o755);
    await controller.promote({ target: "web", to: "dev", version: "2.0.0", set: { url: "/srv/web-2.0.0.tgz" }, by: "ci" });
    await tick();
    const step = controller.promotions()["web"]?.steps[0];
    assert.equal(step?.phase, "Failed");
    assert.equal(step?.reason, "PushRejected");
    assert.match(step?.message ?? "", /could not write dev: push to .* rejected: pre-receive hook declined; protected branch: changes need review/);
    await rm(hook);

    await repo.commit({ "apps/web/dev/web.yaml": "kind: Service\nmetadata: {name: web-dev}\nspec: {env: {VERSION: '1.0.0'}}\n" }, "unmark dev");
    await controller.promote({ target: "web", to: "dev", version: "2.0.0", set: { url: "/srv/web-2.0.0.tgz" }, by: "ci" });
    await tick();
    const unmarked = controller.promotions()["web"]?.steps[0];
    assert.equal(unmarked?.reason, "NoSetter");
    assert.match(unmarked?.message ?? "", /no value in apps\/web\/dev is marked for pipeline web: add a comment such as "version: 1.0.0 # ferry:set web:version"/);
  });

  it("signs its commits when given a key", async (t) => {
    const { repo, controller, options } = await setup("signed", [stepOf("dev", 0)]);
    t.after(() => repo.remove());
    await controller.stop();
    const key = await createSshKey(join(dir, "signed"), "promoter");
    const signing = new PromotionController(new World(repo, join(dir, "signed", "cache2"), [stepOf("dev", 0)]), { ...options, signing: key.signing });
    t.after(() => signing.stop());
    await signing.start();
    await signing.promote({ target: "web", to: "dev", version: "2.0.0", set: { url: "/srv/web-2.0.0.tgz" }, by: "ci" });
    signing.poke();
    await signing.settle();
    assert.match(await repo.git("cat-file", "commit", "HEAD"), /-----BEGIN SSH SIGNATURE-----/);
    assert.equal((await repo.git("log", "-1", "--format=%s")).trim(), "Promote web 2.0.0 into dev");
  });

  it("pushes a pull-request branch instead of the branch, and waits for the merge", async (t) => {
    const { repo, world, controller, tick, initial } = await setup("pr", [stepOf("dev", 0)], { mode: "pull-request", minIntervalMs: 0 });
    t.after(() => controller.stop());
    t.after(() => repo.remove());
    await controller.promote({ target: "web", to: "dev", version: "2.0.0", set: { url: "/srv/web-2.0.0.tgz" }, by: "ci" });
    await tick();
    const step = controller.promotions()["web"]?.steps[0];
    assert.deepEqual([step?.phase, step?.branch], ["AwaitingMerge", "ferry/promote/web/dev-2.0.0"]);
    assert.equal(await repo.head(), initial, "main is not written");
    assert.match(await repo.git("show", "ferry/promote/web/dev-2.0.0:apps/web/dev/web.yaml"), /VERSION: "2.0.0"/);
    await repo.git("-c", "user.name=T", "-c", "user.email=t@x", "merge", "--quiet", "--no-edit", "ferry/promote/web/dev-2.0.0");
    await world.synced("dev");
    await tick();
    await tick();
    assert.equal(controller.promotions()["web"]?.outcome, "Succeeded");
  });

  it("a discovered version enters the first environment, and a restarted controller resumes", async (t) => {
    const { repo, world, controller, tick, options } = await setup("watch", [stepOf("dev", 0), stepOf("acc", 1)]);
    t.after(() => repo.remove());
    let latest = { version: "1.0.0", url: "/srv/web-1.0.0.tgz" };
    const watcher: Watcher = { description: "test watcher", latest: () => Promise.resolve(latest) };
    await controller.stop();
    world.pipeline = { ...world.pipeline, watch: { type: "directory", path: "/srv", pattern: "web-{version}.tgz", policy: { order: "semver" } } };
    const watching = new PromotionController(world, { ...options, createWatcher: () => watcher, watchIntervalMs: 0 });
    await watching.start();
    const tickWatching = async (): Promise<void> => {
      watching.poke();
      await watching.settle();
    };
    await tickWatching();
    assert.equal(watching.promotions()["web"], undefined, "the version dev already has opens nothing");
    latest = { version: "2.0.0", url: "/srv/web-2.0.0.tgz" };
    await tickWatching();
    await tickWatching();
    assert.equal(watching.promotions()["web"]?.startedBy, "watch");
    assert.match(await repo.git("show", "HEAD:apps/web/dev/web.yaml"), /VERSION: "2.0.0" # ferry:set web:version\n {4}URL: \/srv\/web-2.0.0.tgz/);
    await watching.stop();
    void tick;

    // A new controller on the same state directory picks up where the last one stopped.
    await world.synced("dev");
    const resumed = new PromotionController(world, { ...options, createWatcher: () => watcher, watchIntervalMs: 0 });
    t.after(() => resumed.stop());
    await resumed.start();
    resumed.poke();
    await resumed.settle();
    resumed.poke();
    await resumed.settle();
    assert.equal(resumed.promotions()["web"]?.steps[0]?.phase, "Passed");
    assert.match(await repo.git("show", "HEAD:apps/web/acc/web.yaml"), /VERSION: "2.0.0"/);
    assert.equal((await repo.git("log", "-1", "--format=%s")).trim(), "Promote web 2.0.0 from dev to acc");
  });
});
