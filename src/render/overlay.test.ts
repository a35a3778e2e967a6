import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { formatProblem } from "../core/errors.js";
import { locate } from "../core/objects.js";
import type { ManifestFile } from "./load-files.js";
import { loadSourceFiles } from "./load-source.js";
import { renderDirectory } from "./render.js";

const file = (name: string, content: string, extra: string[] = []): string =>
  ["apiVersion: host.ferry.dev/v1", "kind: File", "metadata:", `  name: ${name}`, ...extra, "spec:", `  path: ${name}.txt`, `  content: ${content}`, ""].join("\n");
const overlay = (...bases: string[]): string => ["apiVersion: ferry.dev/v1", "kind: Overlay", "spec:", "  bases:", ...bases.map((b) => `    - ${b}`), ""].join("\n");

const BASE: ManifestFile[] = [
  { path: "apps/web/base/files.yaml", content: [file("config", "base", ["  labels:", '    app.kubernetes.io/version: "1"']), file("page", "hello"), file("debug", "on")].join("---\n") },
];

function render(files: ManifestFile[], dir: string) {
  const result = renderDirectory(files, { dir });
  return { ...result, problems: result.problems.map(formatProblem) };
}

describe("overlays", () => {
  test("patch the base: fields merge, new objects are added, a delete patch removes one, and patched fields name the overlay's line", () => {
    const files = [
      ...BASE,
      { path: "apps/web/envs/prd/ferry-overlay.yaml", content: overlay("../../base") },
      {
        path: "apps/web/envs/prd/patches.yaml",
        content: [
          ["apiVersion: host.ferry.dev/v1", "kind: File", "metadata:", "  name: config", "  labels:", '    app.kubernetes.io/version: "2"', "spec:", "  content: prd", ""].join("\n"),
          ["apiVersion: host.ferry.dev/v1", "kind: File", "metadata:", "  name: debug", "  annotations:", "    ferry.dev/patch: delete", ""].join("\n"),
          file("extra", "only in prd"),
        ].join("---\n"),
      },
    ];
    const { objects, problems } = render(files, "apps/web/envs/prd");
    assert.deepEqual(problems, []);
    assert.deepEqual(
      objects.map((o) => [o.manifest.metadata.name, (o.manifest.spec as { content: string }).content, o.manifest.metadata.labels?.["app.kubernetes.io/version"]]),
      [
        ["config", "prd", "2"],
        ["extra", "only in prd", undefined],
        ["page", "hello", undefined],
      ],
    );
    const config = objects.find((o) => o.manifest.metadata.name === "config");
    assert.ok(config);
    assert.deepEqual(locate(config.origin, "/spec/content"), { file: "apps/web/envs/prd/patches.yaml", line: 8, column: 12 });
    assert.deepEqual(locate(config.origin, "/spec/path"), { file: "apps/web/base/files.yaml", line: 8, column: 9 });
    assert.equal((config.manifest.spec as { path: string }).path, "config.txt", "fields the patch leaves alone stay");
  });

  test("stack: prd over acc over base", () => {
    const files = [
      ...BASE,
      { path: "envs/acc/ferry-overlay.yaml", content: overlay("../../apps/web/base") },
      { path: "envs/acc/config.yaml", content: "apiVersion: host.ferry.dev/v1\nkind: File\nmetadata:\n  name: config\nspec:\n  content: acc\n" },
      { path: "envs/prd/ferry-overlay.yml", content: overlay("../acc") },
      { path: "envs/prd/page.yaml", content: "apiVersion: host.ferry.dev/v1\nkind: File\nmetadata:\n  name: page\nspec:\n  content: null\n  contentFrom: page.html\n" },
    ];
    const { objects, problems } = render(files, "envs/prd");
    assert.deepEqual(problems, []);
    const spec = (name: string) => objects.find((o) => o.manifest.metadata.name === name)?.manifest.spec as Record<string, unknown>;
    assert.equal(spec("config").content, "acc");
    assert.deepEqual(spec("page"), { path: "page.txt", contentFrom: "page.html" }, "null removes a field");
    const page = objects.find((o) => o.manifest.metadata.name === "page");
    assert.equal(page && locate(page.origin, "/spec/contentFrom").file, "envs/prd/page.yaml", "contentFrom resolves from the overlay that set it");
  });

  test("say what is wrong with an overlay, at its line", () => {
    const withOverlay = (content: string, extra: ManifestFile[] = []) => render([...BASE, { path: "apps/web/envs/prd/ferry-overlay.yaml", content }, ...extra], "apps/web/envs/prd").problems;
    assert.deepEqual(withOverlay(overlay("../../../../../etc")), ['apps/web/envs/prd/ferry-overlay.yaml:5:7: spec.bases[0]: base "../../../../../etc" leaves the repository']);
    assert.deepEqual(withOverlay(overlay("./sub")), ['apps/web/envs/prd/ferry-overlay.yaml:5:7: spec.bases[0]: base "./sub" is the overlay\'s own directory or inside it']);
    assert.deepEqual(withOverlay(overlay("..")), ['apps/web/envs/prd/ferry-overlay.yaml:5:7: spec.bases[0]: base ".." contains the overlay: its files would be rendered twice']);
    assert.ok(
      withOverlay("apiVersion: ferry.dev/v1\nkind: Overlay\nspec:\n  base: [../../base]\n").includes('apps/web/envs/prd/ferry-overlay.yaml:4:3: spec.base: unknown field "base" (did you mean "bases"?)'),
    );
    assert.deepEqual(
      withOverlay(overlay("../../base"), [{ path: "apps/web/envs/prd/x.yaml", content: "apiVersion: host.ferry.dev/v1\nkind: File\nmetadata:\n  name: nope\n  annotations:\n    ferry.dev/patch: delete\n" }]),
      ["apps/web/envs/prd/x.yaml:6:22: metadata.annotations.ferry.dev/patch: File/nope is marked for deletion, but no base declares it"],
    );
    assert.deepEqual(
      withOverlay(overlay("../../base", "../../base2"), [{ path: "apps/web/base2/f.yaml", content: file("page", "again") }]),
      ["apps/web/base2/f.yaml:1:1: File/page is declared by two bases: first at apps/web/base/files.yaml:11"],
    );
  });

  test("refuse overlays that loop", () => {
    const files = [
      { path: "a/ferry-overlay.yaml", content: overlay("../b") },
      { path: "b/ferry-overlay.yaml", content: overlay("../a") },
    ];
    assert.deepEqual(render(files, "a").problems, ["a/ferry-overlay.yaml:1:1: overlays nest too deep or in a loop: a -> b -> a"]);
  });

  test("load the files of every base from a checkout", async () => {
    const root = await mkdtemp(join(tmpdir(), "ferry-overlay-"));
    try {
      const write = async (path: string, content: string): Promise<void> => {
        await mkdir(dirname(join(root, path)), { recursive: true });
        await writeFile(join(root, path), content);
      };
      for (const f of BASE) await write(f.path, f.content);
      await write("apps/web/envs/dev/ferry-overlay.yaml", overlay("../../base"));
      await write("apps/web/envs/dev/config.yaml", "apiVersion: host.ferry.dev/v1\nkind: File\nmetadata:\n  name: config\nspec:\n  content: dev\n");
      await write("apps/web/envs/prd/ferry-overlay.yaml", overlay("../../missing"));
      const files = await loadSourceFiles(root, "apps/web/envs/dev");
      assert.deepEqual(
        files.map((f) => f.path),
        ["apps/web/base/files.yaml", "apps/web/envs/dev/config.yaml", "apps/web/envs/dev/ferry-overlay.yaml"],
      );
      assert.deepEqual(render(files, "apps/web/envs/dev").problems, []);
      await assert.rejects(loadSourceFiles(root, "apps/web/envs/prd"), /base apps\/web\/missing of apps\/web\/envs\/prd\/ferry-overlay\.yaml: directory apps\/web\/missing not found/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
