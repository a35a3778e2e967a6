import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Application } from "../config/application.js";
import type { ResourceKey } from "../core/ids.js";
import { GitFetcher } from "../source/git-fetcher.js";
import { removeTree } from "../source/read-only-tree.js";
import { TestRepository } from "../../test/support/test-repository.js";
import { createMemoryTarget } from "../targets/memory/memory-target.js";
import { MemoryRecordStore } from "./app-record.js";
import { Engine } from "./engine.js";
import type { EngineEvent } from "./events.js";

const thing = (name: string, value: string): string => `apiVersion: test.ferry.dev/v1
kind: Thing
metadata:
  name: ${name}
spec:
  value: "${value}"
`;
const overlay = (...bases: string[]): string => ["apiVersion: ferry.dev/v1", "kind: Overlay", "spec:", "  bases:", ...bases.map((b) => `    - ${b}`), ""].join("\n");

function app(name: string, path = `apps/${name}`): Application {
  return {
    name,
    spec: {
      source: { path },
      target: "memory",
      syncPolicy: { automated: true, prune: true, selfHeal: true, interval: 3_600_000 },
      dependsOn: [],
      suspend: false,
    },
    origin: { file: "ferry/apps.yaml", line: 1, column: 1, document: 0, positions: {} },
  } as unknown as Application;
}

/** Applications reading one git repository through a real fetcher; counts which of them rendered. */
async function rig(repo: TestRepository, cacheDir: string) {
  const fetcher = new GitFetcher(repo.directory, "main", { cacheDir });
  const store = new MemoryRecordStore();
  const engine = new Engine({ targets: new Map([["memory", createMemoryTarget()]]), fetcherFor: () => fetcher, store, healthTimeoutMs: 2000 });
  const rendered: string[] = [];
  engine.subscribe((e: EngineEvent) => {
    if (e.type === "Progress" && e.stage === "render") rendered.push(e.application);
  });
  await engine.start();
  const commit = async (files: Record<string, string | null>): Promise<string> => {
    const revision = await repo.commit(files);
    rendered.length = 0;
    const saves = store.saves;
    const result = await fetcher.refresh();
    assert.equal(result.artifact.revision, revision);
    engine.sourceChanged(fetcher);
    await engine.whenIdle();
    lastSaves = store.saves - saves;
    return revision;
  };
  let lastSaves = 0;
  return { engine, fetcher, store, rendered, commit, saves: () => lastSaves };
}

describe("engine: a new revision runs only the applications whose inputs it changed", () => {
  let repo: TestRepository;
  let cacheDir: string;
  before(async () => {
    repo = await TestRepository.create();
    cacheDir = await mkdtemp(join(tmpdir(), "ferry-inputs-"));
  });
  after(async () => {
    await repo.remove();
    await removeTree(cacheDir);
  });

  it("runs none for a README, one for its own file, every one over a changed base, all for sync --all", async () => {
    await repo.commit({
      "README.md": "one\n",
      "base/thing.yaml": thing("shared", "1"),
      "apps/web/ferry-overlay.yaml": overlay("../../base"),
      "apps/web/web.yaml": thing("web", "1"),
      "apps/api/ferry-overlay.yaml": overlay("../../base"),
      "apps/api/api.yaml": thing("api", "1"),
      "apps/db/db.yaml": thing("db", "1"),
    });
    const { engine, fetcher, rendered, commit, saves } = await rig(repo, cacheDir);
    await fetcher.refresh();
    engine.setApplications([app("web"), app("api"), app("db")]);
    await engine.whenIdle();
    assert.deepEqual(rendered.sort(), ["api", "db", "web"]);
    for (const name of ["web", "api", "db"]) assert.equal(engine.status(name)?.sync.status, "Synced");

    const readme = await commit({ "README.md": "two\n" });
    assert.deepEqual(rendered, [], "a README change renders nothing");
    assert.equal(saves(), 0, "and rewrites no record");
    for (const name of ["web", "api", "db"]) {
      assert.equal(engine.status(name)?.sync.revision, readme, `${name} is current at the new revision`);
      assert.equal(engine.status(name)?.inputs?.revision, readme);
    }
    assert.equal(engine.runCounts().unchanged, 3);

    await commit({ "apps/db/db.yaml": thing("db", "2") });
    assert.deepEqual(rendered, ["db"], "only the application whose file changed renders");

    await commit({ "base/thing.yaml": thing("shared", "2") });
    assert.deepEqual(rendered.sort(), ["api", "web"], "a changed base runs every overlay over it");

    await commit({ "apps/web/extra.yaml": thing("extra", "1") });
    assert.deepEqual(rendered, ["web"], "a file added to an application's directory runs it");

    rendered.length = 0;
    engine.setApplications([app("web"), { ...app("api"), spec: { ...app("api").spec, syncPolicy: { ...app("api").spec.syncPolicy, interval: 600_000 } } } as Application, app("db")]);
    await engine.whenIdle();
    assert.deepEqual(rendered, ["api"], "a changed Application document runs it");

    rendered.length = 0;
    const statuses = await engine.syncAll();
    assert.deepEqual(statuses.map((s) => s.name), ["api", "db", "web"]);
    assert.deepEqual(rendered.sort(), ["api", "db", "web"], "sync --all runs every one");
    await engine.stop();
  });
});

describe("engine: an interval run with unchanged inputs renders nothing", () => {
  let repo: TestRepository;
  let cacheDir: string;
  before(async () => {
    repo = await TestRepository.create();
    cacheDir = await mkdtemp(join(tmpdir(), "ferry-interval-"));
  });
  after(async () => {
    await repo.remove();
    await removeTree(cacheDir);
  });

  it("verifies live state without a render or a record write, and still corrects a hand edit nobody was told of", async () => {
    await repo.commit({ "README.md": "one\n", "apps/web/web.yaml": thing("web", "1"), "apps/db/db.yaml": thing("db", "1") });
    const target = createMemoryTarget();
    const fetcher = new GitFetcher(repo.directory, "main", { cacheDir });
    const store = new MemoryRecordStore();
    const engine = new Engine({ targets: new Map([["memory", target]]), fetcherFor: () => fetcher, store, healthTimeoutMs: 2000 });
    const rendered: string[] = [];
    engine.subscribe((e: EngineEvent) => {
      if (e.type === "Progress" && e.stage === "render") rendered.push(e.application);
    });
    await engine.start();
    await fetcher.refresh();
    engine.setApplications([app("web"), app("db")]);
    await engine.whenIdle();
    assert.deepEqual(rendered.sort(), ["db", "web"]);

    const interval = async (): Promise<number> => {
      rendered.length = 0;
      const saves = store.saves;
      for (const name of ["web", "db"]) engine.enqueue(name, "interval");
      await engine.whenIdle();
      return store.saves - saves;
    };
    assert.equal(await interval(), 0, "an interval run right after the sync writes no record");
    assert.deepEqual(rendered, [], "and renders nothing");
    assert.equal(engine.runCounts().verified, 2);

    // A revision that changes nothing either application reads leaves the inputs unchanged.
    await repo.commit({ "README.md": "two\n" });
    await fetcher.refresh();
    engine.sourceChanged(fetcher);
    await engine.whenIdle();
    assert.equal(await interval(), 0);
    assert.deepEqual(rendered, [], "unchanged inputs at a newer revision render nothing either");

    // A hand edit whose notification never came: the interval run finds it and corrects it.
    const key = [...target.live.keys()].find((k) => k.includes("/web"));
    assert.ok(key);
    const edited = target.live.get(key);
    assert.ok(edited);
    (target.live as Map<ResourceKey, typeof edited>).set(key, { ...edited, state: { ...edited.state, spec: { value: "by hand" } } });
    await interval();
    assert.deepEqual(rendered, ["web"], "only the edited application renders");
    assert.deepEqual(target.live.get(key)?.state.spec, { value: "1" }, "and the edit is put back");

    // A changed input is a full run, and a forced sync renders whatever the inputs.
    await repo.commit({ "apps/db/db.yaml": thing("db", "2") });
    await fetcher.refresh();
    rendered.length = 0;
    engine.sourceChanged(fetcher);
    await engine.whenIdle();
    assert.deepEqual(rendered, ["db"]);
    rendered.length = 0;
    await engine.syncAll();
    assert.deepEqual(rendered.sort(), ["db", "web"], "sync --all renders every one");
    assert.equal(await interval(), 0);
    assert.deepEqual(rendered, [], "and the interval runs after it render nothing");
    await engine.stop();
  });
});
