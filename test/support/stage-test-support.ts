import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { asDigest, asRevision } from "../../src/core/ids.js";
import type { Artifact } from "../../src/source/artifact.js";

/**
 * Makes artifacts of files a test writes, at revision `revision` (a hex
 * digit repeated); their directories are removed when the test file ends.
 * Call it at the top of a test file.
 */
export function testArtifacts(prefix: string, revision: string): (files: Readonly<Record<string, string>>) => Promise<Artifact> {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });
  return async (files) => {
    const directory = await mkdtemp(join(tmpdir(), prefix));
    dirs.push(directory);
    for (const [path, content] of Object.entries(files)) {
      await mkdir(join(directory, path, ".."), { recursive: true });
      await writeFile(join(directory, path), content);
    }
    return {
      url: "repo",
      ref: "main",
      revision: asRevision(revision.repeat(40)),
      digest: asDigest(`sha256:${"0".repeat(64)}`),
      directory,
      commit: { author: "a", email: "a@example.com", subject: "s", time: "2026-01-01T00:00:00Z" },
    };
  };
}
