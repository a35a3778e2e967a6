import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { FerryError } from "../core/errors.js";
import type { GitFetcherOptions } from "./git-fetcher.js";
import { GitFetcher } from "./git-fetcher.js";
import { readOnlyMode, removeTree } from "./read-only-tree.js";
import { TestRepository } from "../../test/support/test-repository.js";

describe("GitFetcher", () => {
  let repo: TestRepository;
  let cacheDir: string;
  const fetcherFor = (ref = "main", options: Partial<GitFetcherOptions> = {}): GitFetcher =>
    new GitFetcher(repo.directory, ref, { cacheDir, ...options });

  beforeEach(async () => {
    repo = await TestRepository.create();
    cacheDir = await mkdtemp(join(tmpdir(), "ferry-cache-"));
  });
  afterEach(async () => {
    await repo.remove();
    await removeTree(cacheDir);
  });

  it("fetches and checks out the branch on the first refresh", async () => {
    const head = await repo.commit({ "app/config.yaml": "replicas: 1\n", "bin/run.sh": { content: "#!/bin/sh\n", executable: true } }, "add app");
    const fetcher = fetcherFor();
    const result = await fetcher.refresh();
    assert.equal(result.changed, true);
    assert.equal(result.fetched, true);
    assert.deepEqual(fetcher.stats(), { lsRemote: 1, fetches: 1 });
    const artifact = result.artifact;
    assert.equal(artifact.revision, head);
    assert.equal(artifact.ref, "main");
    assert.equal(artifact.url, repo.directory);
    assert.equal(artifact.directory, join(cacheDir, "artifacts", head));
    assert.match(artifact.digest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(await readFile(join(artifact.directory, "app", "config.yaml"), "utf8"), "replicas: 1\n");
    assert.deepEqual(await readdir(artifact.directory), ["app", "bin"]);
    assert.equal(artifact.commit.subject, "add app");
    assert.equal(artifact.commit.author, "Ferry Test");
    assert.equal(artifact.commit.email, "test@ferry.invalid");
    assert.ok(Math.abs(Date.parse(artifact.commit.time) - Date.now()) < 10 * 60_000, artifact.commit.time);
    assert.equal(fetcher.current(), artifact);
  });

  it("takes the commit a push named, not where the ref has moved since, and never goes back to an older one", async () => {
    const first = await repo.commit({ "app/config.yaml": "replicas: 1\n" }, "first");
    const fetcher = fetcherFor();
    assert.equal((await fetcher.refresh()).artifact.revision, first);
    const pushed = await repo.commit({ "app/config.yaml": "replicas: 2\n" }, "pushed");
    const later = await repo.commit({ "app/config.yaml": "replicas: 3\n" }, "pushed after");
    fetcher.notePush(pushed);
    const atPush = await fetcher.refresh();
    assert.equal(atPush.artifact.revision, pushed, "the push's own commit, though the branch has moved on");
    assert.equal(atPush.changed, true);
    assert.equal(await readFile(join(atPush.artifact.directory, "app", "config.yaml"), "utf8"), "replicas: 2\n");
    assert.equal(fetcher.stats().lsRemote, 1, "no ls-remote for a push that names its commit");
    // The next poll follows the branch.
    assert.equal((await fetcher.refresh()).artifact.revision, later);
    // A late webhook of an earlier push does not move the source back.
    fetcher.notePush(pushed);
    const late = await fetcher.refresh();
    assert.equal(late.artifact.revision, later);
    assert.equal(late.changed, false);
    fetcher.notePush(first);
    assert.equal((await fetcher.refresh()).artifact.revision, later);
    // A deletion's zeros, or garbage, are no commit.
    fetcher.notePush("0".repeat(40));
    assert.equal((await fetcher.refresh()).artifact.revision, later);
  });

  it("writes a new revision from the current artifact: unchanged files are shared, only what changed is written, the result is the commit's tree", async () => {
    await repo.commit({
      "apps/web/a.yaml": "a: 1\n",
      "apps/web/b.yaml": "b: 1\n",
      "apps/api/c.yaml": "c: 1\n",
      "gone.txt": "bye\n",
      "becomes-dir": "file\n",
      "bin/run.sh": { content: "#!/bin/sh\n", executable: true },
    });
    const fetcher = fetcherFor();
    const first = (await fetcher.refresh()).artifact;
    const head = await repo.commit({ "apps/web/a.yaml": "a: 2\n", "gone.txt": null, "becomes-dir": null, "becomes-dir/x.yaml": "x: 1\n", "new/deep/d.yaml": "d: 1\n" });
    const second = (await fetcher.refresh()).artifact;
    assert.equal(second.revision, head);
    const inode = async (artifact: { directory: string }, path: string): Promise<number> => (await stat(join(artifact.directory, path))).ino;
    assert.equal(await inode(second, "apps/api/c.yaml"), await inode(first, "apps/api/c.yaml"), "an unchanged file is shared, not copied");
    assert.notEqual(await inode(second, "apps/web/a.yaml"), await inode(first, "apps/web/a.yaml"));
    assert.equal(await readFile(join(first.directory, "apps/web/a.yaml"), "utf8"), "a: 1\n", "the earlier artifact is untouched");

    const full = await mkdtemp(join(tmpdir(), "ferry-full-"));
    try {
      await repo.git("--work-tree", full, "checkout", head, "--", ".");
      // Paths, modes (as read-only as makeTreeReadOnly makes them) and contents.
      const treeOf = async (root: string, readOnly: boolean): Promise<string[]> => {
        const out: string[] = [];
        const walk = async (dir: string): Promise<void> => {
          for (const entry of await readdir(dir, { withFileTypes: true })) {
            const path = join(dir, entry.name);
            const mode = (await stat(path)).mode;
            if (entry.isDirectory()) {
              out.push(`${relative(root, path)}/ ${(readOnly ? 0o555 : mode & 0o777).toString(8)}`);
              await walk(path);
            } else out.push(`${relative(root, path)} ${(readOnly ? readOnlyMode(mode) : mode & 0o777).toString(8)} ${await readFile(path, "utf8")}`);
          }
        };
        await walk(root);
        return out.sort();
      };
      const expected = await treeOf(full, true);
      assert.deepEqual(await treeOf(second.directory, false), expected);
    } finally {
      await removeTree(full);
    }
  });

  it("resolves a commit prefix from the commits fetched, else from the remote's branch tips; unknown and ambiguous prefixes are undefined", async () => {
    const first = await repo.commit({ "a.txt": "1" });
    const fetcher = fetcherFor();
    await fetcher.refresh();
    assert.equal(await fetcher.resolveCommit(first.slice(0, 8)), first);
    assert.equal(await fetcher.resolveCommit(first.toUpperCase().slice(0, 12)), first);
    await repo.git("checkout", "-q", "-b", "feature");
    const tip = await repo.commit({ "a.txt": "2" });
    assert.equal(await fetcher.resolveCommit(tip.slice(0, 7)), tip, "a branch tip not fetched yet is found through ls-remote");
    assert.equal((await fetcher.artifactAt(tip)).revision, tip);
    assert.equal(await fetcher.resolveCommit("0000000"), undefined);
    assert.equal(await fetcher.resolveCommit("main"), undefined);
    assert.equal(await fetcher.resolveCommit(first.slice(0, 6)), undefined, "six digits are too few");
    assert.equal(fetcher.current()?.revision, first, "resolving does not move the fetcher");
  });

  it("asks the remote only with ls-remote when nothing moved", async () => {
    await repo.commit({ "a.txt": "1" });
    const fetcher = fetcherFor();
    const first = await fetcher.refresh();
    const second = await fetcher.refresh();
    assert.equal(second.changed, false);
    assert.equal(second.fetched, false);
    assert.equal(second.artifact, first.artifact);
    assert.deepEqual(fetcher.stats(), { lsRemote: 2, fetches: 1 });
  });

  it("picks up a new commit into a new artifact and leaves the old one intact", async () => {
    await repo.commit({ "a.txt": "one" });
    const fetcher = fetcherFor();
    const first = await fetcher.refresh();
    const second = await repo.commit({ "a.txt": "two" }, "second");
    const result = await fetcher.refresh();
    assert.equal(result.changed, true);
    assert.equal(result.fetched, true);
    assert.equal(result.artifact.revision, second);
    assert.notEqual(result.artifact.directory, first.artifact.directory);
    assert.notEqual(result.artifact.digest, first.artifact.digest);
    assert.equal(await readFile(join(result.artifact.directory, "a.txt"), "utf8"), "two");
    assert.equal(await readFile(join(first.artifact.directory, "a.txt"), "utf8"), "one");
    assert.deepEqual(fetcher.stats(), { lsRemote: 2, fetches: 2 });
  });

  it("makes artifacts read-only", async () => {
    await repo.commit({ "dir/a.txt": "one", "run.sh": { content: "#!/bin/sh\n", executable: true } });
    const { artifact } = await fetcherFor().refresh();
    const file = join(artifact.directory, "dir", "a.txt");
    assert.equal((await stat(file)).mode & 0o777, 0o444);
    assert.equal((await stat(join(artifact.directory, "run.sh"))).mode & 0o777, 0o555);
    assert.equal((await stat(join(artifact.directory, "dir"))).mode & 0o777, 0o555);
    assert.equal((await stat(artifact.directory)).mode & 0o777, 0o555);
    // Permission bits do not stop root, so the write itself is only tried as another user.
    if (process.getuid?.() !== 0) {
      await assert.rejects(writeFile(file, "changed"), { code: "EACCES" });
      await assert.rejects(writeFile(join(artifact.directory, "new.txt"), "x"), { code: "EACCES" });
    }
  });

  it("gives equal trees equal digests, and returns to a known commit without fetching", async () => {
    const first = await repo.commit({ "a.txt": "one" }, "one");
    await repo.commit({ "a.txt": "two" }, "two");
    const fetcher = fetcherFor();
    const one = await fetcher.refresh();
    assert.equal(one.artifact.revision, await repo.head());
    await repo.git("revert", "--no-edit", "HEAD");
    const reverted = await fetcher.refresh();
    assert.equal(reverted.changed, true);
    const atFirst = await fetcherFor("main", { cacheDir: await mkdtemp(join(tmpdir(), "ferry-cache-")) }).artifactAt(first);
    assert.equal(reverted.artifact.digest, atFirst.digest);
    assert.notEqual(reverted.artifact.revision, atFirst.revision);
    await removeTree(dirname(dirname(atFirst.directory)));

    // Moving the branch back to a commit this cache has fetched before needs no fetch.
    const fetchesBefore = fetcher.stats().fetches;
    await repo.git("reset", "--hard", "--quiet", one.artifact.revision);
    const back = await fetcher.refresh();
    assert.equal(back.changed, true);
    assert.equal(back.fetched, false);
    assert.equal(back.artifact.revision, one.artifact.revision);
    assert.equal(fetcher.stats().fetches, fetchesBefore);
  });

  it("follows lightweight and annotated tags to their commit", async () => {
    const tagged = await repo.commit({ "a.txt": "v1" }, "release");
    await repo.tag("v1");
    await repo.tag("v1-annotated", { annotated: true });
    await repo.commit({ "a.txt": "later" }, "later");
    for (const tag of ["v1", "v1-annotated"]) {
      const { artifact } = await fetcherFor(tag).refresh();
      assert.equal(artifact.revision, tagged, tag);
      assert.equal(artifact.ref, tag);
      assert.equal(await readFile(join(artifact.directory, "a.txt"), "utf8"), "v1");
    }
  });

  it("says which ref is missing, as a stalled error", async () => {
    await repo.commit({ "a.txt": "1" });
    const error = await fetcherFor("nope").refresh().then(
      () => assert.fail("expected a failure"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof FerryError);
    assert.equal(error.disposition, "stalled");
    assert.equal(error.reason, "RefNotFound");
    assert.equal(error.message, `ref "nope" not found in file://${repo.directory}`);
  });

  it("treats an unreachable repository as transient", async () => {
    const fetcher = new GitFetcher(join(cacheDir, "no-such-repo"), "main", { cacheDir });
    const error = await fetcher.refresh().then(
      () => assert.fail("expected a failure"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof FerryError);
    assert.equal(error.disposition, "transient");
    assert.equal(error.reason, "GitFailed");
    assert.match(error.message, /^git ls-remote .*no-such-repo.* failed/);
  });

  it("refuses a ref that git would read as an option", () => {
    assert.throws(() => fetcherFor("--upload-pack=x"), (e: unknown) => e instanceof FerryError && e.reason === "InvalidSource");
  });

  it("runs one fetch for concurrent refreshes", async () => {
    await repo.commit({ "a.txt": "1" });
    const fetcher = fetcherFor();
    const results = await Promise.all([fetcher.refresh(), fetcher.refresh(), fetcher.refresh()]);
    assert.equal(results[0], results[1]);
    assert.equal(results[1], results[2]);
    assert.deepEqual(fetcher.stats(), { lsRemote: 1, fetches: 1 });
  });

  it("reads a repository given relative to the working directory", async () => {
    const head = await repo.commit({ "a.txt": "1" });
    const fetcher = new GitFetcher(basename(repo.directory), "main", { cacheDir, cwd: dirname(repo.directory) });
    assert.equal(fetcher.remoteUrl, `file://${repo.directory}`);
    assert.equal((await fetcher.refresh()).artifact.revision, head);
  });

  it("checks out any earlier commit on request without changing the current one", async () => {
    const old = await repo.commit({ "a.txt": "old" }, "old");
    const head = await repo.commit({ "a.txt": "new" }, "new");
    const fetcher = fetcherFor();
    await fetcher.refresh();
    const artifact = await fetcher.artifactAt(old);
    assert.equal(artifact.revision, old);
    assert.equal(artifact.commit.subject, "old");
    assert.equal(await readFile(join(artifact.directory, "a.txt"), "utf8"), "old");
    assert.equal(fetcher.current()?.revision, head);
    assert.deepEqual(fetcher.stats(), { lsRemote: 1, fetches: 2 });
    await assert.rejects(fetcher.artifactAt("HEAD~1"), (e: unknown) => e instanceof FerryError && e.reason === "InvalidRevision");
  });

  it("keeps only the newest artifacts after each refresh", async () => {
    const fetcher = fetcherFor("main", { keepArtifacts: 2 });
    const revisions: string[] = [];
    for (const n of [1, 2, 3, 4]) {
      revisions.push(await repo.commit({ "a.txt": String(n) }, `commit ${n}`));
      await fetcher.refresh();
    }
    const kept = await readdir(join(cacheDir, "artifacts"));
    assert.deepEqual(kept.sort(), revisions.slice(2).sort());
    assert.equal(relative(join(cacheDir, "artifacts"), fetcher.current()?.directory ?? ""), revisions[3]);
  });
});
