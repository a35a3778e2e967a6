import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatProblem } from "../core/errors.js";
import type { ManifestFile } from "./load-files.js";
import { renderDigest, renderDirectory } from "./render.js";
import { renderPlain } from "./render-plain.js";

const web = "apiVersion: host.ferry.dev/v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  command: node\n  args: [a, b]\n";
const db = "apiVersion: host.ferry.dev/v1\nkind: Service\nmetadata:\n  name: db\nspec:\n  command: postgres\n";

describe("renderDirectory", () => {
  it("renders plain yaml when the caller knows nothing more", () => {
    const result = renderDirectory([{ path: "apps/web/all.yaml", content: `${web}---\n${db}` }], {});
    assert.deepEqual(result.problems, []);
    assert.deepEqual(result.objects.map((o) => o.key), ["host.ferry.dev/Service//db", "host.ferry.dev/Service//web"]);
    const [dbObject] = result.objects;
    assert.deepEqual(dbObject?.origin.file, "apps/web/all.yaml");
    assert.deepEqual([dbObject?.origin.line, dbObject?.origin.document], [9, 1]);
  });

  it("gives the same objects whatever order the files come in", () => {
    const files: ManifestFile[] = [
      { path: "b.yaml", content: web },
      { path: "a.yaml", content: db },
    ];
    assert.deepEqual(renderDirectory(files), renderDirectory([...files].reverse()));
  });

  it("names layouts rendered by a tool instead of misreading their marker files", () => {
    const result = renderDirectory([
      { path: "apps/web/kustomization.yaml", content: "resources: [a.yaml]\n" },
      { path: "apps/web/a.yaml", content: web },
    ]);
    assert.deepEqual(result.objects, []);
    assert.deepEqual(result.problems.map(formatProblem), [
      "apps/web/kustomization.yaml:1:1: this directory is a kustomize layout: only an application's source.path is rendered with its tool; here ferry reads plain manifests",
    ]);
    assert.match(formatProblem(renderDirectory([{ path: "ferry-overlay.yaml", content: "{}" }]).problems[0]!), /^ferry-overlay\.yaml:1:1: /, "an overlay is rendered as one");
  });
});

describe("renderDigest", () => {
  const digestOf = (files: ManifestFile[]) => {
    const result = renderPlain(files);
    assert.deepEqual(result.problems, []);
    return renderDigest(result.objects);
  };

  it("is a sha256 digest", () => {
    assert.match(digestOf([{ path: "a.yaml", content: web }]), /^sha256:[0-9a-f]{64}$/);
  });

  it("depends only on the desired state, not on files, order, comments or key order", () => {
    const reordered = "# the same object\nkind: Service\nspec:\n  args: [a, b]\n  command: node\nmetadata: {name: web}\napiVersion: host.ferry.dev/v1\n";
    const one = digestOf([{ path: "a.yaml", content: `${web}---\n${db}` }]);
    assert.equal(digestOf([{ path: "x/db.yaml", content: db }, { path: "y/web.yml", content: reordered }]), one);
    const objects = renderPlain([{ path: "a.yaml", content: `${web}---\n${db}` }]).objects;
    assert.equal(renderDigest([...objects].reverse()), one);
  });

  it("changes when any value changes, including list order", () => {
    const base = digestOf([{ path: "a.yaml", content: web }]);
    assert.notEqual(digestOf([{ path: "a.yaml", content: web.replace("[a, b]", "[b, a]") }]), base);
    assert.notEqual(digestOf([{ path: "a.yaml", content: web.replace("node", "deno") }]), base);
    assert.notEqual(digestOf([{ path: "a.yaml", content: web + "  env: {}\n" }]), base);
  });

  it("of nothing is stable too", () => {
    assert.equal(renderDigest([]), renderDigest([]));
  });
});

describe("renderPlain", () => {
  it("accepts a name at the length limit and refuses one past it", () => {
    const named = (name: string) => renderPlain([{ path: "a.yaml", content: `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n` }]);
    const label = "a".repeat(63);
    const longest = [label, label, label, "a".repeat(61)].join(".");
    assert.equal(longest.length, 253);
    assert.deepEqual(named(longest).problems, []);
    const [problem] = named(longest + "a").problems;
    assert.match(problem?.message ?? "", /is not a valid name: .*at most 253 characters/);
    assert.ok((problem?.message.length ?? 0) < 300, "a long value is shortened in the message");
  });

  it("keys objects by group, kind, namespace and name", () => {
    const result = renderPlain([
      { path: "a.yaml", content: "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\n" },
    ]);
    assert.deepEqual(result.objects.map((o) => o.key), ["apps/Deployment/shop/web"]);
  });
});
