import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, test } from "node:test";
import { loadKustomizeSources } from "./kustomize.js";

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

test("the sources of a kustomization: YAML under its directories and the files it names, never a link out of the checkout", async () => {
  const root = await mkdtemp(join(tmpdir(), "ferry-ksources-"));
  const outside = await mkdtemp(join(tmpdir(), "ferry-ksources-out-"));
  dirs.push(root, outside);
  const files: Record<string, string> = {
    "apps/base/kustomization.yaml": "resources: [secret.yaml]\n",
    "apps/base/nested/secret.yaml": "a: 1\n",
    "apps/base/notes.txt": "not yaml\n",
    "shared/patch.yaml": "b: 2\n",
    "shared/other.yaml": "c: 3\n",
  };
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  await writeFile(join(outside, "stolen.yaml"), "d: 4\n");
  await symlink(join(outside, "stolen.yaml"), join(root, "shared/link.yaml"));
  const sources = await loadKustomizeSources(root, { directories: ["apps/base"], files: ["shared/patch.yaml", "shared/link.yaml", "shared/missing.yaml"] });
  assert.deepEqual(
    sources.map((f) => f.path),
    ["apps/base/kustomization.yaml", "apps/base/nested/secret.yaml", "shared/patch.yaml"],
  );
  assert.equal(sources.find((f) => f.path === "shared/patch.yaml")?.content, "b: 2\n");
});
