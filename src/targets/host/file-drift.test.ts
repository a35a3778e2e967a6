import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { scaled } from "../../../test/support/deadline.js";
import type { LiveChange } from "../target.js";
import { createFileDriftWatcher } from "./file-drift.js";
import type { FileRecord } from "./file-state.js";
import { inspectFile } from "./file-state.js";
import { createRecordSealer } from "./record-seal.js";
import { createSandbox, hostObject, waitFor } from "../../../test/support/host-test-support.js";

const HOUR = 3_600_000;

test("a hand edit of a managed file is noticed through file notifications, with polling an hour away", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const target = sandbox.target({ filePollIntervalMs: HOUR });
  const object = hostObject("File", "config", { path: "etc/app/config.txt", content: "as in git\n" });
  await target.apply(object, sandbox.context);
  const changes: LiveChange[] = [];
  const unsubscribe = target.watch((change) => changes.push(change));
  t.after(unsubscribe);
  const file = path.join(sandbox.root, "etc/app/config.txt");

  await writeFile(file, "edited by hand\n");
  const edit = await waitFor("a watch event for the edit", () => changes.find((c) => c.key === object.key), scaled(2000));
  assert.match(edit.message, /was modified/);
  assert.equal((await target.health([object.key])).get(object.key)?.status, "Degraded");

  assert.equal(await target.apply(object, sandbox.context), "configured");
  changes.length = 0;
  await chmod(file, 0o600);
  await waitFor("a watch event for the mode change", () => changes.find((c) => c.key === object.key), scaled(2000));
  await target.apply(object, sandbox.context);

  changes.length = 0;
  await rm(path.dirname(file), { recursive: true });
  const deleted = await waitFor("a watch event for the removed directory", () => changes.find((c) => c.key === object.key), scaled(2000));
  assert.match(deleted.message, /was deleted/);
  assert.equal(await target.apply(object, sandbox.context), "created");
  changes.length = 0;
  await writeFile(file, "edited again\n");
  await waitFor("a watch event once the directory is back", () => changes.find((c) => c.key === object.key), scaled(2000));
});

test("files recorded by an earlier agent are watched from the start", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const object = hostObject("File", "config", { path: "etc/app/config.txt", content: "as in git\n" });
  const earlier = sandbox.target({ filePollIntervalMs: HOUR });
  await earlier.apply(object, sandbox.context);
  await earlier.close();

  const target = sandbox.target({ filePollIntervalMs: HOUR });
  const changes: LiveChange[] = [];
  const unsubscribe = target.watch((change) => changes.push(change));
  t.after(unsubscribe);
  await target.health([object.key]);
  await writeFile(path.join(sandbox.root, "etc/app/config.txt"), "edited by hand\n");
  await waitFor("a watch event for the edit", () => changes.find((c) => c.key === object.key), scaled(2000));
});

test("a directory that cannot be watched is polled, and the files' health says so", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const dir = path.join(sandbox.base, "files");
  await mkdir(dir);
  const file = path.join(dir, "a.txt");
  await writeFile(file, "one\n");
  const sealer = createRecordSealer(Buffer.alloc(32, 7));
  const sha = createHash("sha256").update("one\n").digest("hex");
  const record: FileRecord = { name: "a", owner: "demo", path: file, contentDigest: sealer.seal(sha), mode: "0644" };
  const seen: string[] = [];
  const noWatches = (): never => {
    throw Object.assign(new Error("no space"), { code: "ENOSPC" });
  };
  const watcher = createFileDriftWatcher(() => [record], sealer, 20, (_record, message) => seen.push(message), { watch: noWatches });
  t.after(() => watcher.setActive(false));
  watcher.accept(record, await inspectFile(file));
  watcher.setActive(true);
  assert.match(watcher.pollingReason(file) ?? "", /polling every 0.02 s: the limit of file watches is reached/);
  await writeFile(file, "two\n");
  await waitFor("polling to notice the edit", () => seen.includes("file a was modified"), scaled(2000));
});
