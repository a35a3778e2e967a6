import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { FerryError } from "../core/errors.js";
import { watchSpecSchema } from "./watch-spec.js";
import { createWatcher } from "./watcher.js";

async function artifactDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "ferry-watch-dir-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const sha256 = (text: string) => `sha256:${createHash("sha256").update(text).digest("hex")}`;

test("the directory watcher finds the highest version, with the file's digest and path", async (t) => {
  const dir = await artifactDir(t);
  await writeFile(join(dir, "web-1.2.0.tar.gz"), "one");
  await writeFile(join(dir, "web-1.10.0.tar.gz"), "ten");
  await writeFile(join(dir, "web-latest.tar.gz"), "not a version");
  await writeFile(join(dir, "api-9.0.0.tar.gz"), "another app");
  await writeFile(join(dir, ".web-9.9.9.tar.gz"), "an upload in progress");
  await mkdir(join(dir, "web-5.0.0.tar.gz"));
  const watcher = createWatcher(watchSpecSchema.parse({ type: "directory", path: dir, pattern: "web-{version}.tar.gz" }));
  assert.equal(watcher.description, `directory ${dir} (web-{version}.tar.gz)`);
  assert.deepEqual(await watcher.latest(), { version: "1.10.0", digest: sha256("ten"), url: join(dir, "web-1.10.0.tar.gz") });

  await writeFile(join(dir, "web-2.0.0.tar.gz"), "two");
  assert.deepEqual(await watcher.latest(), { version: "2.0.0", digest: sha256("two"), url: join(dir, "web-2.0.0.tar.gz") });
});

test("a relative path is relative to the base directory; a range and newest-build apply", async (t) => {
  const dir = await artifactDir(t);
  await mkdir(join(dir, "artifacts"));
  await writeFile(join(dir, "artifacts", "web-1.0.0.tgz"), "1");
  await writeFile(join(dir, "artifacts", "web-2.0.0.tgz"), "2");
  await writeFile(join(dir, "artifacts", "web-3.0.0-rc.1.tgz"), "3rc");
  const spec = (policy: object) => watchSpecSchema.parse({ type: "directory", path: "artifacts", pattern: "web-{version}.tgz", policy });
  assert.equal((await createWatcher(spec({ semver: "<2" }), { baseDir: dir }).latest())?.version, "1.0.0");
  assert.equal((await createWatcher(spec({}), { baseDir: dir }).latest())?.version, "2.0.0");
  // newest-build goes by the file's time: the oldest version written last wins.
  await utimes(join(dir, "artifacts", "web-1.0.0.tgz"), new Date(), new Date(Date.now() + 60_000));
  assert.equal((await createWatcher(spec({ order: "newest-build" }), { baseDir: dir }).latest())?.version, "1.0.0");
  assert.equal((await createWatcher(spec({ semver: "^5" }), { baseDir: dir }).latest()), undefined);
});

test("a missing directory is a transient error naming it, and the watcher backs off until a time it names", async (t) => {
  const dir = await artifactDir(t);
  let now = Date.parse("2026-01-01T00:00:00Z");
  const watcher = createWatcher(watchSpecSchema.parse({ type: "directory", path: join(dir, "missing"), pattern: "web-{version}.tgz" }), {
    now: () => now,
    random: () => 0.999,
  });
  await assert.rejects(watcher.latest(), (error) => {
    assert.ok(error instanceof FerryError);
    assert.equal(error.disposition, "transient");
    assert.match(error.message, /missing does not exist/);
    return true;
  });
  await mkdir(join(dir, "missing"));
  await writeFile(join(dir, "missing", "web-1.0.0.tgz"), "1");
  // The directory exists now, but the watcher does not look before its backoff ends.
  await assert.rejects(watcher.latest(), /not asking again before 2026-01-01T00:00:04\.99\dZ after 1 failure in a row: .*missing does not exist/);
  now += 5_000;
  assert.equal((await watcher.latest())?.version, "1.0.0");
});
