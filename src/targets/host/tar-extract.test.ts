import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createReadStream } from "node:fs";
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { test } from "node:test";
import { createGunzip } from "node:zlib";
import type { TarEntry } from "../../../test/support/tar-test-support.js";
import { makeTar } from "../../../test/support/tar-test-support.js";
import { extractTar, UnsafeArchiveError } from "./tar-extract.js";

async function scratch(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "ferry-tar-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Feeds the archive in small uneven chunks, so headers and bodies straddle chunk boundaries. */
function chunked(data: Buffer, size = 777): AsyncIterable<Buffer> {
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) chunks.push(data.subarray(i, i + size));
  return Readable.from(chunks);
}

test("an archive made by GNU tar unpacks with its long names, modes, directories and inner symlinks", async (t) => {
  if (spawnSync("tar", ["--version"]).status !== 0) return t.skip("GNU tar is not installed");
  const dir = await scratch(t);
  const src = path.join(dir, "src");
  const deep = path.join(src, "lib", "a".repeat(60), "b".repeat(60));
  await mkdir(deep, { recursive: true });
  await writeFile(path.join(deep, "module.js"), "module.exports = 1;\n");
  await writeFile(path.join(src, "run.sh"), "#!/bin/sh\necho hi\n", { mode: 0o755 });
  await symlink("run.sh", path.join(src, "start"));
  const archive = path.join(dir, "app.tar.gz");
  for (const format of ["gnu", "posix"]) {
    const made = spawnSync("tar", ["-czf", archive, `--format=${format}`, "-C", src, "."]);
    assert.equal(made.status, 0, made.stderr.toString());
    const dest = path.join(dir, `out-${format}`);
    await mkdir(dest);
    await extractTar(createReadStream(archive).pipe(createGunzip()), dest);
    assert.equal(await readFile(path.join(dest, "lib", "a".repeat(60), "b".repeat(60), "module.js"), "utf8"), "module.exports = 1;\n");
    assert.equal((await stat(path.join(dest, "run.sh"))).mode & 0o777, 0o755);
    assert.equal(await readlink(path.join(dest, "start")), "run.sh");
  }
});

test("pax path headers, hard links inside, and entries cut into odd chunks unpack", async (t) => {
  const dest = await scratch(t);
  const longName = `${"dir/".repeat(40)}file.txt`;
  await extractTar(
    chunked(
      makeTar([
        { name: "./", type: "5" },
        { name: longName, content: "deep", pax: true },
        { name: "bin/tool", content: "#!/bin/sh\n", mode: 0o4755 },
        { name: "bin/alias", type: "1", linkName: "bin/tool" },
      ]),
    ),
    dest,
  );
  assert.equal(await readFile(path.join(dest, longName), "utf8"), "deep");
  // setuid is dropped: only the rwx bits are kept.
  assert.equal((await stat(path.join(dest, "bin/tool"))).mode & 0o7777, 0o755);
  assert.equal((await stat(path.join(dest, "bin/alias"))).ino, (await stat(path.join(dest, "bin/tool"))).ino);
});

const HOSTILE: readonly { readonly what: string; readonly entries: readonly TarEntry[]; readonly message: RegExp }[] = [
  { what: "a parent reference", entries: [{ name: "../escaped.txt", content: "x" }], message: /"\.\.\/escaped\.txt" climbs out of the archive/ },
  { what: "a parent reference in a pax path", entries: [{ name: "ok/../../escaped.txt", content: "x", pax: true }], message: /climbs out of the archive/ },
  { what: "an absolute path", entries: [{ name: "/tmp/ferry-escaped.txt", content: "x" }], message: /has an absolute path/ },
  { what: "a symlink to an absolute path", entries: [{ name: "passwd", type: "2", linkName: "/etc/passwd" }], message: /symlink "passwd" points outside/ },
  { what: "a symlink up and out", entries: [{ name: "sub/out", type: "2", linkName: "../../x" }], message: /symlink "sub\/out" points outside/ },
  {
    what: "a file written through a symlink",
    entries: [
      { name: "inside", type: "5" },
      { name: "link", type: "2", linkName: "inside" },
      { name: "link/file.txt", content: "x" },
    ],
    message: /"link\/file\.txt" would be written through the symlink "link"/,
  },
  {
    what: "a symlink that escapes through another symlink",
    entries: [
      { name: "here", type: "2", linkName: "." },
      { name: "up", type: "2", linkName: "here/.." },
    ],
    message: /symlink "up" resolves to a place outside the archive/,
  },
  { what: "a hard link to a file outside", entries: [{ name: "shadow", type: "1", linkName: "/etc/shadow" }], message: /hard link "shadow" must point to a regular file earlier in the archive/ },
  { what: "a character device", entries: [{ name: "null", type: "3" }], message: /"null" is a device file/ },
  { what: "a FIFO", entries: [{ name: "pipe", type: "6" }], message: /"pipe" is a FIFO/ },
];

for (const hostile of HOSTILE) {
  test(`an archive with ${hostile.what} is refused, naming the entry`, async (t) => {
    const dir = await scratch(t);
    const dest = path.join(dir, "dest");
    await mkdir(dest);
    await assert.rejects(extractTar(chunked(makeTar(hostile.entries)), dest), (error) => {
      assert.ok(error instanceof UnsafeArchiveError, String(error));
      assert.match(error.message, hostile.message);
      return true;
    });
    // Nothing landed beside the destination.
    assert.deepEqual(await readdir(dir), ["dest"]);
  });
}

test("a truncated archive and a file that is not tar are errors", async (t) => {
  const dest = await scratch(t);
  const whole = makeTar([{ name: "big.txt", content: "y".repeat(5000) }]);
  await assert.rejects(extractTar(chunked(whole.subarray(0, 2048)), dest), /ends in the middle/);
  await assert.rejects(extractTar(chunked(Buffer.from("this is not a tar archive at all".repeat(40))), dest), /not a tar archive/);
  assert.equal((await lstat(dest)).isDirectory(), true);
});
