import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Revision } from "../core/ids.js";
import { asRevision } from "../core/ids.js";
import { ArtifactStore } from "./artifact-store.js";
import { removeTree } from "./read-only-tree.js";

const rev = (digit: string): Revision => asRevision(digit.repeat(40));

async function writeFiles(directory: string, content: string): Promise<void> {
  await mkdir(join(directory, "sub"));
  await writeFile(join(directory, "sub", "file.txt"), content);
  await writeFile(join(directory, "run.sh"), "#!/bin/sh\n", { mode: 0o755 });
}

describe("ArtifactStore", () => {
  let cache: string;
  before(async () => {
    cache = await mkdtemp(join(tmpdir(), "ferry-store-"));
  });
  after(async () => {
    await removeTree(cache);
  });

  it("writes an artifact once, read-only, and reuses it", async () => {
    const store = ArtifactStore.at(join(cache, "once"));
    let writes = 0;
    const write = async (dir: string): Promise<void> => {
      writes++;
      await writeFiles(dir, "hello\n");
    };
    const [a, b] = await Promise.all([store.materialize(rev("1"), write), store.materialize(rev("1"), write)]);
    assert.equal(a, b);
    assert.equal(await store.materialize(rev("1"), write), a);
    assert.equal(writes, 1);
    assert.equal(await readFile(join(a, "sub", "file.txt"), "utf8"), "hello\n");
    assert.equal((await stat(join(a, "sub", "file.txt"))).mode & 0o777, 0o444);
    assert.equal((await stat(join(a, "run.sh"))).mode & 0o777, 0o555);
    assert.equal((await stat(join(a, "sub"))).mode & 0o777, 0o555);
    assert.equal((await stat(a)).mode & 0o777, 0o555);
  });

  it("leaves nothing behind when writing fails", async () => {
    const root = join(cache, "fails");
    const store = ArtifactStore.at(root);
    await assert.rejects(
      store.materialize(rev("2"), async (dir) => {
        await writeFiles(dir, "half");
        throw new Error("disk full");
      }),
      /disk full/,
    );
    assert.deepEqual(await readdir(root), []);
  });

  it("prunes to the newest revisions of each owner and keeps what other owners need", async () => {
    const root = join(cache, "prune");
    const store = ArtifactStore.at(root);
    for (const digit of ["1", "2", "3", "4"]) {
      store.retain("a", rev(digit));
      await store.materialize(rev(digit), (dir) => writeFiles(dir, digit));
    }
    store.retain("b", rev("1"));
    // Leftovers of an earlier run: an unknown revision and an interrupted checkout.
    await mkdir(join(root, rev("9")));
    await mkdir(join(root, `.tmp-${rev("8")}-dead`));
    const removed = await store.prune("a", 2);
    assert.deepEqual([...removed].sort(), [rev("2"), rev("9")]);
    assert.deepEqual((await readdir(root)).sort(), [rev("1"), rev("3"), rev("4")]);
  });

  it("keeps pinned revisions beyond the count", async () => {
    const root = join(cache, "pinned");
    const store = ArtifactStore.at(root);
    for (const digit of ["1", "2", "3"]) {
      store.retain("a", rev(digit));
      await store.materialize(rev(digit), (dir) => writeFiles(dir, digit));
    }
    await store.prune("a", 1, [rev("1")]);
    assert.deepEqual((await readdir(root)).sort(), [rev("1"), rev("3")]);
  });

  it("is one store per directory", () => {
    assert.equal(ArtifactStore.at(join(cache, "x")), ArtifactStore.at(join(cache, "x", "..", "x")));
  });
});
