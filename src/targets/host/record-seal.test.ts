import assert from "node:assert/strict";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { FerryError } from "../../core/errors.js";
import { loadRecordSealer, recordKeyPath } from "./record-seal.js";

test("a state directory's key is made once, 0600, and every process over it seals alike; another directory's does not", async (t) => {
  const base = await mkdtemp(path.join(os.tmpdir(), "ferry-seal-"));
  t.after(() => rm(base, { recursive: true, force: true }));
  const [a, b] = await Promise.all([loadRecordSealer(base), loadRecordSealer(base)]);
  assert.equal((await stat(recordKeyPath(base))).mode & 0o777, 0o600);
  assert.match(a.seal("hunter2"), /^hmac-sha256:[0-9a-f]{64}$/);
  assert.equal(a.seal("hunter2"), b.seal("hunter2"));
  assert.equal(a.seal("hunter2"), (await loadRecordSealer(base)).seal("hunter2"), "the key survives a restart");
  assert.notEqual(a.seal("hunter2"), a.seal("hunter3"));

  const elsewhere = await mkdtemp(path.join(base, "elsewhere-"));
  assert.notEqual((await loadRecordSealer(elsewhere)).seal("hunter2"), a.seal("hunter2"), "a digest cannot be checked without this directory's key");
});

test("a damaged key file is an error naming it", async (t) => {
  const base = await mkdtemp(path.join(os.tmpdir(), "ferry-seal-"));
  t.after(() => rm(base, { recursive: true, force: true }));
  await writeFile(recordKeyPath(base), "not a key\n");
  await assert.rejects(loadRecordSealer(base), (error: unknown) => {
    assert.ok(error instanceof FerryError);
    assert.equal(error.reason, "CorruptState");
    assert.ok(error.message.includes(recordKeyPath(base)), error.message);
    return true;
  });
});
