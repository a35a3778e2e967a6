import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { FerryError } from "../core/errors.js";
import { loadManifestFiles, MAX_MANIFEST_BYTES } from "./load-files.js";

let scratch: string;
let repo: string;

async function put(relative: string, content: string | Buffer): Promise<void> {
  const file = path.join(repo, relative);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
}

/** Asserts that the call fails with a stalled FerryError whose message matches. */
async function assertStalled(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof FerryError, String(error));
    assert.equal(error.disposition, "stalled");
    assert.match(error.message, message);
    return true;
  });
}

describe("loadManifestFiles", () => {
  before(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), "ferry-load-"));
    repo = path.join(scratch, "repo");
    await put("apps/web/service.yaml", "kind: Service\n");
    await put("apps/web/z-last.yml", "kind: Last\n");
    await put("apps/web/config/b.yaml", "kind: B\n");
    await put("apps/web/config/a.yaml", "kind: A\n");
    await put("apps/web/README.md", "# not yaml\n");
    await put("apps/web/values.yaml.bak", "kind: Backup\n");
    await put("apps/web/.hidden.yaml", "kind: Hidden\n");
    await put("apps/web/.cache/inside.yaml", "kind: Hidden\n");
    await put("apps/other/x.yaml", "kind: Other\n");
    await put("outside.yaml", "secret: outside the repository\n");
    await mkdir(path.join(repo, "apps/empty"), { recursive: true });
  });
  after(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it("reads yaml files recursively, sorted, with paths relative to the root", async () => {
    const files = await loadManifestFiles(repo, "apps/web");
    assert.deepEqual(files, [
      { path: "apps/web/config/a.yaml", content: "kind: A\n" },
      { path: "apps/web/config/b.yaml", content: "kind: B\n" },
      { path: "apps/web/service.yaml", content: "kind: Service\n" },
      { path: "apps/web/z-last.yml", content: "kind: Last\n" },
    ]);
  });

  it("accepts the same directory written differently", async () => {
    const expected = await loadManifestFiles(repo, "apps/web");
    for (const dir of ["apps/web/", "./apps/web", "apps//web", "apps/./web"]) assert.deepEqual(await loadManifestFiles(repo, dir), expected, dir);
  });

  it("reads the whole repository for the root", async () => {
    const paths = (await loadManifestFiles(repo, ".")).map((f) => f.path);
    assert.deepEqual(paths.slice(0, 2), ["apps/other/x.yaml", "apps/web/config/a.yaml"]);
    assert.equal(paths.at(-1), "outside.yaml");
    assert.deepEqual(await loadManifestFiles(repo, ""), await loadManifestFiles(repo, "."));
  });

  it("returns nothing for an empty directory", async () => {
    assert.deepEqual(await loadManifestFiles(repo, "apps/empty"), []);
  });

  it("refuses directories that leave the repository", async () => {
    await assertStalled(loadManifestFiles(repo, "../repo"), /^path \.\.\/repo leaves the repository/);
    await assertStalled(loadManifestFiles(repo, "apps/../../etc"), /leaves the repository: "\.\." is not allowed/);
    await assertStalled(loadManifestFiles(repo, "/etc"), /^path \/etc must be relative to the repository root/);
    await assertStalled(loadManifestFiles(repo, "C:\\Windows"), /must be relative/);
  });

  it("names a missing directory, and a file that is not one", async () => {
    await assertStalled(loadManifestFiles(repo, "apps/nope"), /^directory apps\/nope not found$/);
    await assertStalled(loadManifestFiles(repo, "apps/web/service.yaml/x"), /^directory apps\/web\/service\.yaml\/x not found$/);
    await assertStalled(loadManifestFiles(repo, "apps/web/service.yaml"), /^apps\/web\/service\.yaml is not a directory$/);
  });

  describe("symbolic links", () => {
    let linked: string;
    before(async () => {
      linked = await mkdtemp(path.join(os.tmpdir(), "ferry-links-"));
      await writeFile(path.join(linked, "stolen.yaml"), "kind: Stolen\n");
    });
    after(async () => {
      await rm(linked, { recursive: true, force: true });
    });

    it("follows links that stay inside the repository", async () => {
      await put("links/in/real.yaml", "kind: Real\n");
      await symlink("../in/real.yaml", path.join(repo, "links/in/alias.yaml"));
      await symlink("in", path.join(repo, "links/dir-alias"));
      await symlink("..", path.join(repo, "links/in/loop")); // must not loop forever
      const files = await loadManifestFiles(repo, "links");
      // The linked directory is read under both names: rendering then reports the objects declared twice.
      // "loop" leads back to links/, which is being read: it is cut, not followed forever.
      assert.deepEqual(files.map((f) => f.path), ["links/dir-alias/alias.yaml", "links/dir-alias/real.yaml", "links/in/alias.yaml", "links/in/real.yaml"]);
      assert.ok(files.every((f) => f.content === "kind: Real\n"));
    });

    it("refuses a file link that leads outside the repository, naming it", async () => {
      await put("escape-file/ok.yaml", "kind: Ok\n");
      await symlink(path.join(linked, "stolen.yaml"), path.join(repo, "escape-file/evil.yaml"));
      await assertStalled(loadManifestFiles(repo, "escape-file"), /^escape-file\/evil\.yaml is a symbolic link that leads outside the repository$/);
    });

    it("refuses a directory link that leads outside the repository", async () => {
      await mkdir(path.join(repo, "escape-dir"), { recursive: true });
      await symlink(linked, path.join(repo, "escape-dir/elsewhere"));
      await assertStalled(loadManifestFiles(repo, "escape-dir"), /^escape-dir\/elsewhere is a symbolic link that leads outside/);
      await symlink(linked, path.join(repo, "top-link"));
      await assertStalled(loadManifestFiles(repo, "top-link"), /^directory top-link is a symbolic link that leads outside the repository$/);
    });

    it("ignores links to files it would not read anyway", async () => {
      await mkdir(path.join(repo, "harmless"), { recursive: true });
      await symlink("/etc/hostname", path.join(repo, "harmless/hostname.txt"));
      await symlink(path.join(linked, "missing.txt"), path.join(repo, "harmless/dangling.txt"));
      assert.deepEqual(await loadManifestFiles(repo, "harmless"), []);
      await symlink(path.join(linked, "missing.yaml"), path.join(repo, "harmless/dangling.yaml"));
      await assertStalled(loadManifestFiles(repo, "harmless"), /^harmless\/dangling\.yaml is a symbolic link to a missing file$/);
    });
  });

  it("refuses files over the size limit with a clear error", async () => {
    assert.equal(MAX_MANIFEST_BYTES, 5 * 1024 * 1024);
    await put("big/huge.yaml", Buffer.alloc(MAX_MANIFEST_BYTES + 1, "a"));
    await assertStalled(loadManifestFiles(repo, "big"), /^big\/huge\.yaml is 5 MiB, more than the 5 MiB allowed for a manifest file$/);
    await put("small/a.yaml", "kind: " + "x".repeat(100) + "\n");
    await assertStalled(loadManifestFiles(repo, "small", { maxFileBytes: 64 }), /^small\/a\.yaml is 107 bytes, more than the 64 bytes allowed/);
  });

  it("refuses files that are not utf-8", async () => {
    await put("binary/blob.yaml", Buffer.from([0x6b, 0x3a, 0x20, 0xff, 0xfe, 0x0a]));
    await assertStalled(loadManifestFiles(repo, "binary"), /^binary\/blob\.yaml is not valid utf-8 text$/);
  });
});
