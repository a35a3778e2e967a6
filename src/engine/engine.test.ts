import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { findCondition } from "../core/conditions.js";
import type { Digest, ResourceKey, Revision } from "../core/ids.js";
import type { Application } from "../config/application.js";
import type { PolicyRule } from "../config/policy.js";
import { stalled } from "../core/errors.js";
import type { Artifact, RefreshResult, SourceFetcher, SourceRefusal } from "../source/artifact.js";
import { createMemoryTarget } from "../targets/memory/memory-target.js";
import type { MemoryTarget } from "../targets/memory/memory-target.js";
import { MemoryRecordStore } from "./app-record.js";
import { Engine } from "./engine.js";
import type { EngineEvent } from "./events.js";

const roots: string[] = [];
after(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

/** A source whose commits are directories written by the test. */
class FakeSource implements SourceFetcher {
  readonly url = "fake";
  readonly ref = "main";
  #artifact: Artifact | undefined;
  readonly #all = new Map<string, Artifact>();
  #count = 0;
  #refusal: SourceRefusal | undefined;

  /** The ref moves to a commit the source refuses (as an unsigned one); current() stays where it was. */
  refuse(): SourceRefusal {
    this.#count++;
    const revision = this.#count.toString(16).padStart(40, "0") as Revision;
    this.#refusal = { revision, error: stalled("SignatureRefused", `revision ${revision.slice(0, 8)} refused: unsigned`) };
    return this.#refusal;
  }
  refusal(): SourceRefusal | undefined {
    return this.#refusal;
  }

  async commit(files: Record<string, string>): Promise<Artifact> {
    const dir = await mkdtemp(join(tmpdir(), "ferry-engine-"));
    roots.push(dir);
    for (const [path, content] of Object.entries(files)) {
      await mkdir(join(dir, path, ".."), { recursive: true });
      await writeFile(join(dir, path), content);
    }
    this.#count++;
    this.#refusal = undefined;
    const revision = this.#count.toString(16).padStart(40, "0") as Revision;
    this.#artifact = {
      url: this.url,
      ref: this.ref,
      revision,
      digest: `sha256:${revision.padEnd(64, "0")}` as Digest,
      directory: dir,
      commit: { author: "Test", email: "t@example.com", subject: `commit ${this.#count}`, time: new Date().toISOString() },
    };
    this.#all.set(revision, this.#artifact);
    return this.#artifact;
  }
  async refresh(): Promise<RefreshResult> {
    if (this.#refusal) throw this.#refusal.error;
    if (!this.#artifact) throw new Error("nothing committed");
    return { artifact: this.#artifact, changed: false, fetched: false };
  }
  current(): Artifact | undefined {
    return this.#artifact;
  }
  async artifactAt(revision: string): Promise<Artifact> {
    const artifact = this.#all.get(revision);
    if (!artifact) throw new Error(`no commit ${revision}`);
    return artifact;
  }
}

const thing = (name: string, value: string, extra = "") => `apiVersion: test.ferry.dev/v1
kind: Thing
metadata:
  name: ${name}
spec:
  value: "${value}"${extra}
`;

function app(name: string, spec: Partial<Application["spec"]> = {}, policy: Partial<Application["spec"]["syncPolicy"]> = {}): Application {
  return {
    name,
    spec: {
      source: { path: `apps/${name}` },
      target: "memory",
      syncPolicy: { automated: true, prune: true, selfHeal: true, interval: 3_600_000, ...policy },
      dependsOn: [],
      suspend: false,
      ...spec,
    },
    origin: { file: "ferry/apps.yaml", line: 1, column: 1, document: 0, positions: {} },
  } as Application;
}

interface Rig {
  engine: Engine;
  target: MemoryTarget;
  source: FakeSource;
  store: MemoryRecordStore;
  events: EngineEvent[];
}

async function rig(): Promise<Rig> {
  const target = createMemoryTarget();
  const source = new FakeSource();
  const store = new MemoryRecordStore();
  const engine = new Engine({ targets: new Map([["memory", target]]), fetcherFor: () => source, store, healthTimeoutMs: 2000, retry: { baseMs: 50, maxMs: 200 } });
  const events: EngineEvent[] = [];
  engine.subscribe((e) => events.push(e));
  await engine.start();
  return { engine, target, source, store, events };
}

const key = (name: string) => `test.ferry.dev/Thing//${name}` as ResourceKey;
const ready = (engine: Engine, name: string) => findCondition(engine.status(name)?.conditions ?? [], "Ready");

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("engine", () => {
  it("applies a revision, and applying the same revision again writes nothing", async () => {
    const { engine, target, source, store } = await rig();
    const first = await source.commit({ "apps/web/a.yaml": thing("a", "1") + "---\n" + thing("b", "1") });
    engine.setApplications([app("web")]);
    await engine.whenIdle();
    assert.equal(ready(engine, "web")?.status, "True");
    assert.equal(engine.status("web")?.sync.revision, first.revision);
    assert.deepEqual(engine.status("web")?.lastSync?.changeSet.created, [key("a"), key("b")]);
    assert.deepEqual([...target.live.keys()].sort(), [key("a"), key("b")]);

    target.resetCalls();
    const saves = store.saves;
    engine.enqueue("web", "interval");
    await engine.whenIdle();
    assert.equal(target.calls.apply.total, 0);
    assert.equal(target.calls.write.total, 0);
    assert.equal(store.saves, saves, "an unchanged run saves nothing");
    await engine.stop();
  });

  it("publishes a run's status only once a listener that keeps its events has them durable", async () => {
    const { engine, source, store } = await rig();
    let release: () => void = () => undefined;
    const durable = new Promise<void>((resolve) => (release = resolve));
    let kept = 0;
    engine.subscribe((event) => {
      if (event.type !== "SyncFinished") return undefined;
      kept++;
      return durable;
    });
    const first = await source.commit({ "apps/web/a.yaml": thing("a", "1") });
    engine.setApplications([app("web")]);
    await until(() => kept === 1, "the sync to finish");
    assert.notEqual(engine.status("web")?.sync.revision, first.revision, "not reported while its event is not durable");
    // The inventory it applies is saved before the apply (write-ahead); the saved status does not report the sync yet.
    assert.notEqual((await store.load("web"))?.status.sync.revision, first.revision, "nor saved as synced");
    const saves = store.saves;
    release();
    await engine.whenIdle();
    assert.equal(engine.status("web")?.sync.revision, first.revision);
    assert.equal((await store.load("web"))?.status.sync.revision, first.revision);
    assert.equal(store.saves, saves + 1);
    await engine.stop();
  });

  it("previews another revision as a sync would decide it, pruning only what the policy prunes, and applies nothing", async () => {
    const { engine, target, source } = await rig();
    const keep = "\n  annotations:\n    ferry.dev/prune: disabled";
    await source.commit({ "apps/web/a.yaml": [thing("a", "1"), thing("b", "1"), thing("k", "1").replace("  name: k", `  name: k${keep}`)].join("---\n") });
    engine.setApplications([app("web")]);
    await engine.whenIdle();
    const deployed = engine.status("web")?.sync.revision;
    const next = await source.commit({ "apps/web/a.yaml": thing("a", "2") + "---\n" + thing("c", "1") });
    target.resetCalls();

    const pruning = await engine.preview(app("web"), next);
    assert.deepEqual(pruning.diffs.map((d) => [d.key, d.type]), [[key("a"), "changed"], [key("b"), "orphan"], [key("c"), "missing"]]);
    assert.deepEqual(pruning.kept, [key("k")], "the prune annotation keeps k");
    const keeping = await engine.preview(app("web", {}, { prune: false }), next);
    assert.deepEqual(keeping.diffs.map((d) => d.type), ["changed", "missing"]);
    assert.deepEqual(keeping.kept, [key("b"), key("k")]);
    const fresh = await engine.preview(app("new", { source: { path: "apps/web" } }), next);
    assert.deepEqual(fresh.diffs.map((d) => [d.key, d.type]), [[key("a"), "changed"], [key("c"), "missing"]], "a new application has no inventory to prune");

    assert.equal(target.calls.apply.total, 0);
    assert.equal(target.calls.write.total, 0);
    assert.equal(engine.status("web")?.sync.revision, deployed);
    await engine.stop();
  });

  it("keeps only Ferry's own annotations in the inventory, so another tool's copy of an object's values stays out of status", async () => {
    const { engine, source, store } = await rig();
    const annotations = '\n  annotations:\n    ferry.dev/prune: disabled\n    kubectl.kubernetes.io/last-applied-configuration: \'{"spec":{"value":"hunter2"}}\'';
    await source.commit({ "apps/web/a.yaml": thing("a", "hunter2").replace("  name: a", `  name: a${annotations}`) });
    engine.setApplications([app("web")]);
    await engine.whenIdle();
    assert.deepEqual(engine.status("web")?.inventory.map((e) => [e.key, e.annotations]), [[key("a"), { "ferry.dev/prune": "disabled" }]]);
    assert.ok(!JSON.stringify(await store.load("web")).includes("last-applied"), "the saved record holds no other annotation");
    await source.commit({ "apps/web/b.yaml": thing("b", "1") });
    engine.sourceChanged(source);
    await engine.whenIdle();
    assert.deepEqual(engine.status("web")?.lastSync?.changeSet.deleted, [], "the prune opt-out still holds once the object left Git");
    await engine.stop();
  });

  it("updates changed objects and prunes objects that left Git; the inventory follows", async () => {
    const { engine, target, source, events } = await rig();
    await source.commit({ "apps/web/a.yaml": thing("a", "1") + "---\n" + thing("b", "1") });
    engine.setApplications([app("web")]);
    await engine.whenIdle();
    await source.commit({ "apps/web/a.yaml": thing("a", "2") });
    engine.sourceChanged(source);
    await engine.whenIdle();
    const status = engine.status("web");
    assert.deepEqual(status?.lastSync?.changeSet.configured, [key("a")]);
    assert.deepEqual(status?.lastSync?.changeSet.deleted, [key("b")]);
    assert.deepEqual(status?.inventory.map((e) => e.key), [key("a")]);
    assert.deepEqual([...target.live.keys()], [key("a")]);
    assert.equal(target.live.get(key("a"))?.state.spec && (target.live.get(key("a"))?.state.spec as { value: string }).value, "2");
    assert.ok(events.some((e) => e.type === "SyncFinished" && e.outcome === "Succeeded" && e.trigger === "revision"));
    await engine.stop();
  });

  it("an invalid revision stalls with file and line, applies and prunes nothing; the next good one recovers", async () => {
    const { engine, target, source } = await rig();
    const good = await source.commit({ "apps/web/a.yaml": thing("a", "1") + "---\n" + thing("b", "1") });
    engine.setApplications([app("web")]);
    await engine.whenIdle();
    target.resetCalls();

    await source.commit({ "apps/web/a.yaml": thing("a", "2", "\n  invalid: true") });
    engine.sourceChanged(source);
    await engine.whenIdle();
    let status = engine.status("web");
    assert.equal(findCondition(status?.conditions ?? [], "Stalled")?.reason, "ValidationFailed");
    assert.equal(ready(engine, "web")?.status, "False");
    assert.match(ready(engine, "web")?.message ?? "", /apps\/web\/a\.yaml:\d+:\d+/);
    assert.equal(status?.sync.revision, good.revision, "still synced to the last good revision");
    assert.equal(target.calls.write.total, 0, "nothing applied, nothing pruned");
    assert.deepEqual([...target.live.keys()].sort(), [key("a"), key("b")]);

    await source.commit({ "apps/web/a.yaml": "apiVersion: test.ferry.dev/v1\nkind: Thing\nmetadata:\n  name: [broken" });
    engine.sourceChanged(source);
    await engine.whenIdle();
    status = engine.status("web");
    assert.equal(findCondition(status?.conditions ?? [], "Stalled")?.reason, "RenderFailed");
    assert.match(status?.problems[0]?.location?.file ?? "", /apps\/web\/a\.yaml/);
    assert.equal(target.calls.write.total, 0);

    const fixed = await source.commit({ "apps/web/a.yaml": thing("a", "3") + "---\n" + thing("b", "1") });
    engine.sourceChanged(source);
    await engine.whenIdle();
    assert.equal(ready(engine, "web")?.status, "True");
    assert.equal(findCondition(engine.status("web")?.conditions ?? [], "Stalled"), undefined);
    assert.equal(engine.status("web")?.sync.revision, fixed.revision);
    await engine.stop();
  });

  it("Policy rules: a broken error rule stalls before anything is applied; relaxed rules re-run the same revision", async () => {
    const { engine, target, source } = await rig();
    const rule = (severity: "error" | "warning"): PolicyRule => ({
      name: "no-draft",
      severity,
      forbid: { pointer: "/spec/value", pattern: "^draft" },
      policy: "values",
      origin: { file: "ferry/policy.yaml", line: 1, column: 1, document: 0, positions: {} },
      index: 0,
    });
    await source.commit({ "apps/web/a.yaml": thing("a", "draft-1") });
    engine.setApplications([app("web")], { policies: [rule("error")] });
    await engine.whenIdle();
    const stalledOn = findCondition(engine.status("web")?.conditions ?? [], "Stalled");
    assert.equal(stalledOn?.reason, "PolicyViolation");
    assert.match(stalledOn?.message ?? "", /apps\/web\/a\.yaml:\d+:\d+: spec\.value: "draft-1" is not allowed .*\(policy\/no-draft\)/);
    assert.equal(target.calls.write.total, 0, "nothing applied");
    await assert.rejects(engine.preview(app("web"), source.current() as Artifact), /policy check failed/, "a preview says so too");

    engine.setApplications([app("web")], { policies: [rule("error")] });
    await engine.whenIdle();
    assert.equal(target.calls.write.total, 0, "the same rules leave the stalled revision alone");

    engine.setApplications([app("web")], { policies: [rule("warning")] });
    await engine.whenIdle();
    assert.equal(ready(engine, "web")?.status, "True", "the same revision runs again under the relaxed rules");
    assert.deepEqual([...target.live.keys()], [key("a")]);
    assert.deepEqual(engine.status("web")?.problems.map((p) => p.severity), ["warning"]);
    await engine.stop();
  });

  it("while the newest revision is stalled, drift is still corrected to the last good one", async () => {
    const { engine, target, source, events } = await rig();
    const good = await source.commit({ "apps/web/a.yaml": thing("a", "1") });
    engine.setApplications([app("web")]);
    await engine.whenIdle();
    const broken = await source.commit({ "apps/web/a.yaml": "kind: [" });
    engine.sourceChanged(source);
    await engine.whenIdle();
    target.tamper(key("a"));
    await until(() => events.some((e) => e.type === "DriftCorrected"), "drift to be corrected");
    await engine.whenIdle();
    assert.equal((target.live.get(key("a"))?.state.spec as { value: string }).value, "1");
    const status = engine.status("web");
    assert.equal(findCondition(status?.conditions ?? [], "Stalled")?.reason, "RenderFailed", "the newest revision is still reported stalled");
    assert.equal(status?.lastAttemptedRevision, broken.revision);
    assert.equal(status?.sync.revision, good.revision);
    await engine.stop();
  });

  it("a refused revision stalls with its reason; the accepted one stays applied and healed, even by a manual sync; the next commit recovers", async () => {
    const { engine, target, source, events } = await rig();
    const good = await source.commit({ "apps/web/a.yaml": thing("a", "1") });
    engine.setApplications([app("web")]);
    await engine.whenIdle();
    const refused = source.refuse();
    engine.sourceChanged(source);
    await engine.whenIdle();
    let status = engine.status("web");
    assert.equal(findCondition(status?.conditions ?? [], "Stalled")?.reason, "SignatureRefused");
    assert.equal(findCondition(status?.conditions ?? [], "Ready")?.message, `revision ${refused.revision.slice(0, 8)} refused: unsigned`);
    assert.equal(status?.lastAttemptedRevision, refused.revision);
    assert.deepEqual(status?.sync, { status: "OutOfSync", revision: good.revision, digest: status?.sync.digest });

    target.tamper(key("a"));
    await until(() => events.some((e) => e.type === "DriftCorrected"), "drift to be corrected");
    await engine.whenIdle();
    assert.equal((target.live.get(key("a"))?.state.spec as { value: string }).value, "1");
    status = await engine.sync("web");
    assert.equal(findCondition(status.conditions, "Stalled")?.reason, "SignatureRefused", "a manual sync does not get past the refusal");
    assert.ok(!events.some((e) => e.type === "SyncFinished" && e.revision === refused.revision), "nothing of the refused revision was applied");

    const next = await source.commit({ "apps/web/a.yaml": thing("a", "2") });
    engine.sourceChanged(source);
    await engine.whenIdle();
    assert.equal(ready(engine, "web")?.status, "True");
    assert.equal(engine.status("web")?.sync.revision, next.revision);
    assert.equal(findCondition(engine.status("web")?.conditions ?? [], "Stalled"), undefined);
    await engine.stop();
  });

  it("a refused revision after one that stalled still heals the last applied one", async () => {
    const { engine, target, source, events } = await rig();
    const good = await source.commit({ "apps/web/a.yaml": thing("a", "1") });
    engine.setApplications([app("web")]);
    await engine.whenIdle();
    await source.commit({ "apps/web/a.yaml": "kind: [" });
    engine.sourceChanged(source);
    await engine.whenIdle();
    source.refuse();
    engine.sourceChanged(source);
    await engine.whenIdle();
    target.tamper(key("a"));
    await until(() => events.some((e) => e.type === "DriftCorrected"), "drift to be corrected");
    await engine.whenIdle();
    assert.equal((target.live.get(key("a"))?.state.spec as { value: string }).value, "1");
    assert.equal(engine.status("web")?.sync.revision, good.revision);
    assert.equal(findCondition(engine.status("web")?.conditions ?? [], "Stalled")?.reason, "SignatureRefused");
    await engine.stop();
  });

  it("corrects drift when self-heal is on, and says so", async () => {
    const { engine, target, source, events } = await rig();
    await source.commit({ "apps/web/a.yaml": thing("a", "1") });
    engine.setApplications([app("web")]);
    await engine.whenIdle();
    target.tamper(key("a"));
    await until(() => events.some((e) => e.type === "DriftCorrected"), "drift to be corrected");
    await engine.whenIdle();
    const detected = events.find((e) => e.type === "DriftDetected");
    assert.ok(detected && detected.type === "DriftDetected" && detected.objects[0]?.key === key("a"));
    assert.equal((target.live.get(key("a"))?.state.spec as { value: string }).value, "1");
    assert.equal(ready(engine, "web")?.status, "True");
    await engine.stop();
  });

  it("reports drift without correcting it when self-heal is off", async () => {
    const { engine, target, source, events } = await rig();
    await source.commit({ "apps/web/a.yaml": thing("a", "1") });
    engine.setApplications([app("web", {}, { selfHeal: false })]);
    await engine.whenIdle();
    target.resetCalls();
    target.tamper(key("a"));
    await until(() => events.some((e) => e.type === "DriftDetected"), "drift to be detected");
    await engine.whenIdle();
    assert.equal(target.calls.apply.total, 0);
    assert.equal(ready(engine, "web")?.reason, "DriftDetected");
    assert.deepEqual(engine.status("web")?.drift.map((d) => d.key), [key("a")]);
    assert.ok(!events.some((e) => e.type === "DriftCorrected"));
    await engine.stop();
  });

  it("a manual policy applies only on request", async () => {
    const { engine, target, source } = await rig();
    await source.commit({ "apps/web/a.yaml": thing("a", "1") });
    engine.setApplications([app("web", {}, { automated: false })]);
    await engine.whenIdle();
    assert.equal(target.live.size, 0);
    assert.equal(engine.status("web")?.sync.status, "OutOfSync");
    const status = await engine.sync("web");
    assert.equal(findCondition(status.conditions, "Ready")?.status, "True");
    assert.equal(target.live.size, 1);
    await engine.stop();
  });

  it("dependsOn waits for the dependency to be Ready and wakes as soon as it is", async () => {
    const { engine, target, source } = await rig();
    await source.commit({ "apps/db/a.yaml": thing("db", "1"), "apps/web/a.yaml": thing("web", "1") });
    target.setHealth(key("db"), { status: "Degraded", message: "not yet" });
    engine.setApplications([app("web", { dependsOn: ["db"] }), app("db")]);
    await engine.whenIdle();
    assert.equal(ready(engine, "web")?.reason, "DependencyNotReady");
    assert.equal(target.live.has(key("web")), false);
    target.setHealth(key("db"), undefined);
    await until(() => ready(engine, "web")?.status === "True", "web to become ready after db");
    assert.equal(target.live.has(key("web")), true);
    await engine.stop();
  });

  it("a failed delete stays in the inventory and is retried", async () => {
    const { engine, target, source } = await rig();
    await source.commit({ "apps/web/a.yaml": thing("a", "1") + "---\n" + thing("b", "1") });
    engine.setApplications([app("web")]);
    await engine.whenIdle();
    target.failDelete(key("b"), new Error("busy"));
    await source.commit({ "apps/web/a.yaml": thing("a", "1") });
    engine.sourceChanged(source);
    await engine.whenIdle();
    assert.deepEqual(engine.status("web")?.inventory.map((e) => e.key), [key("a"), key("b")]);
    assert.equal(ready(engine, "web")?.status, "False");
    target.clearFailures();
    await until(() => engine.status("web")?.inventory.length === 1, "the retry to prune b");
    assert.equal(target.live.has(key("b")), false);
    await engine.stop();
  });

  it("an application removed from Git has its objects pruned", async () => {
    const { engine, target, source, events } = await rig();
    await source.commit({ "apps/web/a.yaml": thing("a", "1"), "apps/db/a.yaml": thing("db", "1") });
    engine.setApplications([app("web"), app("db")]);
    await engine.whenIdle();
    engine.setApplications([app("db")]);
    await engine.whenIdle();
    assert.deepEqual([...target.live.keys()], [key("db")]);
    assert.ok(events.some((e) => e.type === "ApplicationRemoved" && e.application === "web"));
    assert.equal(engine.status("web"), undefined);
    await engine.stop();
  });

  it("refuses a sync that would delete more than half of an application's objects, until overridden", async () => {
    const { engine, target, source, events } = await rig();
    const four = ["a", "b", "c", "d"].map((n) => thing(n, "1")).join("---\n");
    const good = await source.commit({ "apps/web/a.yaml": four });
    engine.setApplications([app("web")]);
    await engine.whenIdle();
    assert.equal(target.live.size, 4);

    const emptied = await source.commit({ "apps/web/a.yaml": thing("a", "2") });
    target.resetCalls();
    engine.enqueue("web", "revision");
    await engine.whenIdle();
    const stalledCondition = findCondition(engine.status("web")?.conditions ?? [], "Stalled");
    assert.equal(stalledCondition?.reason, "MassDeleteRefused");
    assert.match(stalledCondition?.message ?? "", /refusing to delete 3 of 4 objects/);
    assert.match(stalledCondition?.message ?? "", /ferry sync web --allow-mass-delete/);
    assert.equal(target.calls.apply.total, 0, "nothing is applied when refused");
    assert.equal(target.live.size, 4, "nothing is pruned when refused");
    assert.equal(engine.status("web")?.sync.revision, good.revision, "the last good revision stays synced");
    assert.ok(!events.some((e) => e.type === "SyncStarted" && e.revision === emptied.revision));

    const status = await engine.sync("web", { allowMassDelete: true });
    assert.equal(findCondition(status.conditions, "Ready")?.status, "True");
    assert.deepEqual([...target.live.keys()], [key("a")]);
    assert.deepEqual(status.lastSync?.changeSet.deleted.length, 3);
    await engine.stop();
  });

  it("the allow-mass-delete annotation lets a sync delete every object, and an unset one refuses it", async () => {
    const { engine, target, source } = await rig();
    await source.commit({ "apps/web/a.yaml": thing("a", "1") + "---\n" + thing("b", "1") });
    engine.setApplications([app("web")]);
    await engine.whenIdle();
    await source.commit({ "apps/web/README.md": "moved away\n" });
    engine.enqueue("web", "revision");
    await engine.whenIdle();
    assert.equal(findCondition(engine.status("web")?.conditions ?? [], "Stalled")?.reason, "MassDeleteRefused");
    assert.match(findCondition(engine.status("web")?.conditions ?? [], "Stalled")?.message ?? "", /2 of 2 objects \(all/);
    assert.equal(target.live.size, 2);

    engine.setApplications([app("web", { allowMassDelete: true })]);
    await engine.whenIdle();
    assert.equal(target.live.size, 0);
    assert.equal(findCondition(engine.status("web")?.conditions ?? [], "Stalled"), undefined);
    await engine.stop();
  });

  it("an agent that lost its record after an apply (killed before saving it) records the version it finds live and takes back its inventory", async () => {
    const { engine, target, source } = await rig();
    const first = await source.commit({ "apps/web/a.yaml": thing("a", "1") + "---\n" + thing("b", "1").replace("  name: b", '  name: b\n  labels:\n    app.kubernetes.io/version: "2.0.0"') });
    engine.setApplications([app("web")]);
    await engine.whenIdle();
    await engine.stop();

    // The next agent: the same live objects, no record of the application.
    const store = new MemoryRecordStore();
    const next = new Engine({ targets: new Map([["memory", target]]), fetcherFor: () => source, store, healthTimeoutMs: 2000 });
    const events: EngineEvent[] = [];
    next.subscribe((e) => events.push(e));
    await next.start();
    next.setApplications([app("web")]);
    await next.whenIdle();
    const status = next.status("web");
    assert.deepEqual(status?.inventory.map((e) => e.key).sort(), [key("a"), key("b")]);
    const synced = events.filter((e) => e.type === "SyncFinished");
    assert.equal(synced.length, 1);
    assert.deepEqual(
      synced.map((e) => e.type === "SyncFinished" && [e.revision, e.outcome, e.versions, e.changeSet.created.length]),
      [[first.revision, "Succeeded", ["2.0.0"], 0]],
    );
    assert.match(status?.lastSync?.message ?? "", /found applied/);
    assert.equal((await store.load("web"))?.applied?.digest !== undefined, true, "saved, so the next run records nothing again");
    next.enqueue("web", "interval");
    await next.whenIdle();
    assert.equal(events.filter((e) => e.type === "SyncFinished").length, 1);
    await next.stop();
  });
});
