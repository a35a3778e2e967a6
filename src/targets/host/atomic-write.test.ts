import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { DirectorySync, writeFileAtomic } from "./atomic-write.js";

test("writes into one directory during an apply cost one directory fsync, at the flush", async (t) => {
  const base = await mkdtemp(path.join(tmpdir(), "ferry-atomic-"));
  t.after(() => rm(base, { recursive: true, force: true }));
  const batch = new DirectorySync();
  for (const name of ["a", "b", "c", "d"]) await writeFileAtomic(path.join(base, "etc", name), `${name}\n`, 0o644, batch);
  await writeFileAtomic(path.join(base, "records", "a.json"), "{}\n", 0o600, batch);
  assert.equal(batch.directorySyncs, 0, "nothing is synced before the flush");
  assert.equal(await readFile(path.join(base, "etc", "c"), "utf8"), "c\n", "each write is in place at once");
  await batch.flush();
  assert.equal(batch.directorySyncs, 2, "one fsync per directory written into");
  await batch.flush();
  assert.equal(batch.directorySyncs, 2, "a flush with nothing written syncs nothing");
  assert.deepEqual((await readdir(path.join(base, "etc"))).sort(), ["a", "b", "c", "d"]);
});
