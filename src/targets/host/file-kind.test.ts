import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, open, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { FerryError } from "../../core/errors.js";
import type { LiveChange } from "../target.js";
import { createSandbox, hostObject, waitFor } from "../../../test/support/host-test-support.js";

function isStalled(reason: string, pattern: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof FerryError, String(error));
    assert.equal(error.disposition, "stalled");
    assert.equal(error.reason, reason);
    assert.match(error.message, pattern);
    return true;
  };
}

test("a file is written with its mode, and applying it again writes nothing", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const target = sandbox.target();
  const object = hostObject("File", "config", { path: "etc/app/config.json", content: '{"port":8080}\n', mode: "0600" });

  assert.equal(await target.apply(object, sandbox.context), "created");
  const file = path.join(sandbox.root, "etc/app/config.json");
  assert.equal(await readFile(file, "utf8"), '{"port":8080}\n');
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  const before = await stat(file);

  assert.equal(await target.apply(object, sandbox.context), "unchanged");
  assert.equal((await stat(file)).mtimeMs, before.mtimeMs);
  const live = (await target.read([object.key])).get(object.key);
  assert.deepEqual(live?.state, await target.describe(object, sandbox.context));
  assert.deepEqual(live?.state, {
    exists: true,
    mode: "0600",
    path: file,
    sha256: createHash("sha256").update('{"port":8080}\n').digest("hex"),
  });
  assert.equal(live?.owner, "demo");
  assert.equal((await target.health([object.key])).get(object.key)?.status, "Healthy");
  assert.deepEqual(await readdir(path.dirname(file)), ["config.json"], "a temporary file was left behind");
});

test("a rewrite replaces the file by rename: a reader of the old file never sees half of the new one", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const target = sandbox.target();
  await target.apply(hostObject("File", "config", { path: "config.txt", content: "old\n" }), sandbox.context);
  const file = path.join(sandbox.root, "config.txt");
  const reader = await open(file, "r");
  t.after(() => reader.close());

  assert.equal(await target.apply(hostObject("File", "config", { path: "config.txt", content: "new\n", mode: "0640" }), sandbox.context), "configured");
  assert.equal((await reader.readFile()).toString(), "old\n");
  assert.equal(await readFile(file, "utf8"), "new\n");
  assert.equal((await stat(file)).mode & 0o777, 0o640);
});

test("paths that escape the root are refused by validate and by apply", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const target = sandbox.target();
  for (const escape of ["../x", "a/../../x", "/etc/passwd"]) {
    const object = hostObject("File", "escape", { path: escape, content: "x" });
    const problems = target.validate(object);
    assert.equal(problems.length, 1, escape);
    assert.equal(problems[0]?.field, "/spec/path");
    assert.match(problems[0]?.message ?? "", /escapes the allowed root/);
    assert.deepEqual(problems[0]?.location, { file: "deploy/app.yaml", line: 6, column: 11 });
    await assert.rejects(target.apply(object, sandbox.context), isStalled("InvalidSpec", /spec\.path: path ".*" escapes the allowed root/));
  }
  assert.deepEqual(target.validate(hostObject("File", "inside", { path: path.join(sandbox.root, "a/b"), content: "x" })), []);
});

test("a symlink inside the root that points outside it is refused at apply", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const target = sandbox.target();
  const outside = path.join(sandbox.base, "outside");
  await mkdir(outside);
  await mkdir(sandbox.root, { recursive: true });
  await symlink(outside, path.join(sandbox.root, "link"));
  await symlink(path.join(outside, "file"), path.join(sandbox.root, "file-link"));

  for (const written of ["link/x", "link/deeper/x", "file-link"]) {
    const object = hostObject("File", "sneaky", { path: written, content: "x" });
    assert.deepEqual(target.validate(object), []);
    await assert.rejects(target.apply(object, sandbox.context), isStalled("PathEscapesRoot", /spec\.path: path .* outside the allowed root/));
  }
  assert.deepEqual(await readdir(outside), []);
});

test("outside edits and deletions are noticed by watch and shown by read", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const target = sandbox.target();
  const changes: LiveChange[] = [];
  const unwatch = target.watch((change) => changes.push(change));
  t.after(unwatch);
  const object = hostObject("File", "config", { path: "config.json", content: "{}\n" });
  await target.apply(object, sandbox.context);
  const file = path.join(sandbox.root, "config.json");
  const applied = (await target.read([object.key])).get(object.key)?.state;

  await writeFile(file, '{"debug":true}\n');
  await waitFor("a modified event", () => changes.some((c) => c.message === "file config was modified"));
  assert.equal(changes[0]?.key, object.key);
  assert.equal(changes[0]?.owner, "demo");
  const edited = (await target.read([object.key])).get(object.key)?.state;
  assert.notEqual(edited?.["sha256"], applied?.["sha256"]);
  assert.equal((await target.health([object.key])).get(object.key)?.status, "Degraded");

  await rm(file);
  await waitFor("a deleted event", () => changes.some((c) => c.message === "file config was deleted"));
  assert.equal((await target.read([object.key])).has(object.key), false);
  assert.equal((await target.health([object.key])).get(object.key)?.status, "Missing");

  assert.equal(await target.apply(object, sandbox.context), "created");
  assert.deepEqual((await target.read([object.key])).get(object.key)?.state, applied);
  const count = changes.length;
  await target.apply(hostObject("File", "config", { path: "config.json", content: "[]\n" }), sandbox.context);
  // Ferry's own writes are not drift: give the poller several ticks to prove it stays quiet.
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(changes.length, count, JSON.stringify(changes.slice(count)));
});

test("contentFrom reads a file of the repository beside the manifest and refuses escapes", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const target = sandbox.target();
  await mkdir(path.join(sandbox.artifact, "apps/web/config"), { recursive: true });
  await writeFile(path.join(sandbox.artifact, "apps/web/config/app.ini"), "[web]\nport=80\n");
  const object = hostObject("File", "ini", { path: "app.ini", contentFrom: "config/app.ini" }, "apps/web/files.yaml");
  assert.equal(await target.apply(object, sandbox.context), "created");
  assert.equal(await readFile(path.join(sandbox.root, "app.ini"), "utf8"), "[web]\nport=80\n");

  const escape = hostObject("File", "passwd", { path: "passwd", contentFrom: "../../../etc/passwd" }, "apps/web/files.yaml");
  assert.equal(target.validate(escape)[0]?.field, "/spec/contentFrom");
  await assert.rejects(target.describe(escape, sandbox.context), isStalled("InvalidSpec", /contentFrom/));

  await symlink("/etc/passwd", path.join(sandbox.artifact, "apps/web/config/passwd"));
  const linked = hostObject("File", "passwd", { path: "passwd", contentFrom: "config/passwd" }, "apps/web/files.yaml");
  await assert.rejects(target.apply(linked, sandbox.context), isStalled("PathEscapesRepository", /points outside the repository/));

  const missing = hostObject("File", "nothing", { path: "nothing", contentFrom: "config/nothing.ini" }, "apps/web/files.yaml");
  await assert.rejects(target.describe(missing, sandbox.context), isStalled("ContentFromUnreadable", /does not exist in the repository/));
});

test("delete removes only files recorded as owned; deleting an absent file succeeds", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const target = sandbox.target();
  const object = hostObject("File", "config", { path: "config.json", content: "{}" });
  await target.apply(object, sandbox.context);
  const file = path.join(sandbox.root, "config.json");

  await assert.rejects(target.apply(object, { ...sandbox.context, application: "other" }), isStalled("OwnedByAnotherApplication", /"demo"/));
  await target.delete(object.key, { application: "other" });
  assert.equal(await readFile(file, "utf8"), "{}");

  await target.delete(object.key, sandbox.context);
  await assert.rejects(stat(file), { code: "ENOENT" });
  assert.equal((await target.read([object.key])).size, 0);
  await target.delete(object.key, sandbox.context);

  // A file nobody recorded is never touched, even when a key names it.
  await writeFile(path.join(sandbox.root, "config.json"), "mine");
  await target.delete(object.key, sandbox.context);
  assert.equal(await readFile(file, "utf8"), "mine");
});

test("a new target over the same state directory reads files recorded by the last one", async (t) => {
  const sandbox = await createSandbox();
  t.after(() => sandbox.cleanup());
  const first = sandbox.target();
  const object = hostObject("File", "config", { path: "config.json", content: "{}" });
  await first.apply(object, sandbox.context);
  await first.close();
  const second = sandbox.target();
  assert.equal((await second.read([object.key])).get(object.key)?.owner, "demo");
  assert.equal(await second.apply(object, sandbox.context), "unchanged");
});
