import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { findExecutable, isAlive, parseProcStat, readProcStat } from "./processes.js";

test("the start time is found after a command name holding spaces and parentheses", () => {
  const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
  fields[0] = "S";
  fields[19] = "123456";
  assert.deepEqual(parseProcStat(`4242 (my (odd) name) ${fields.join(" ")}`), { state: "S", pgrp: 5, startTime: "123456" });
  assert.equal(parseProcStat("garbage"), undefined);
});

test("this process is alive under its own start time and not under another", () => {
  const own = readProcStat(process.pid);
  assert.ok(own);
  assert.equal(isAlive({ pid: process.pid, startTime: own.startTime }), true);
  assert.equal(isAlive({ pid: process.pid, startTime: String(Number(own.startTime) + 1) }), false);
});

test("executables are found by path or on PATH, as execvp would", async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "ferry-exec-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(path.join(dir, "bin"));
  await writeFile(path.join(dir, "bin/tool"), "#!/bin/sh\n");
  await chmod(path.join(dir, "bin/tool"), 0o755);
  await writeFile(path.join(dir, "bin/plain"), "");
  assert.equal(await findExecutable("./bin/tool", dir, ""), path.join(dir, "bin/tool"));
  assert.equal(await findExecutable("tool", "/", `/nonexistent:${path.join(dir, "bin")}`), path.join(dir, "bin/tool"));
  assert.equal(await findExecutable("plain", "/", path.join(dir, "bin")), undefined);
  assert.equal(await findExecutable("bin", "/", dir), undefined);
  assert.equal(await findExecutable("tool", dir, undefined), undefined);
});
