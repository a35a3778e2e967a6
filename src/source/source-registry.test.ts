import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { removeTree } from "./read-only-tree.js";
import { SourceRegistry } from "./source-registry.js";
import { TestRepository } from "../../test/support/test-repository.js";

describe("SourceRegistry", () => {
  let repo: TestRepository;
  let cacheDir: string;
  before(async () => {
    repo = await TestRepository.create();
    await repo.commit({ "a.txt": "1" });
    cacheDir = await mkdtemp(join(tmpdir(), "ferry-registry-"));
  });
  after(async () => {
    await repo.remove();
    await removeTree(cacheDir);
  });

  it("shares one fetcher per repository and ref, however the repository is written", () => {
    const registry = new SourceRegistry(cacheDir, { cwd: dirname(repo.directory) });
    const a = registry.fetcher(repo.directory, "main");
    assert.equal(registry.fetcher(repo.directory, "main"), a);
    assert.equal(registry.fetcher(`${repo.directory}/`, "main"), a);
    assert.equal(registry.fetcher(basename(repo.directory), "main"), a);
    assert.equal(registry.fetcher(`file://${repo.directory}`, "main"), a);
    assert.notEqual(registry.fetcher(repo.directory, "other"), a);
    assert.equal(registry.all().length, 2);
  });

  it("serves shared fetchers whose refreshes are shared too", async () => {
    const registry = new SourceRegistry(cacheDir);
    const [x, y] = await Promise.all([registry.fetcher(repo.directory, "main").refresh(), registry.fetcher(repo.directory, "main").refresh()]);
    assert.equal(x, y);
    assert.deepEqual(registry.fetcher(repo.directory, "main").stats(), { lsRemote: 1, fetches: 1 });
  });
});
