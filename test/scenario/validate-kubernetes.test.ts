// `ferry validate` on Kubernetes layouts agrees with the agent: one source
// deployed once per cluster is valid, a name the agent could never apply is
// refused, and what kubectl writes (`kind: List`, JSON) is read.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { outputOf, Scenario } from "./harness.js";

const app = (name: string, path: string, cluster?: string): string =>
  ["apiVersion: ferry.dev/v1", "kind: Application", "metadata:", `  name: ${name}`, "spec:", "  source:", `    path: ${path}`, "  target: kubernetes", ...(cluster ? [`  cluster: ${cluster}`] : []), "  namespace: shop", ""].join("\n");

const CONFIG_MAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  greeting: hello\n";

describe("ferry validate on Kubernetes layouts", { concurrency: true }, () => {
  test("one source deployed to two clusters is valid; twice to the same cluster is a duplicate", async (t) => {
    const s = await Scenario.create();
    t.after(() => s.cleanup());
    await s.commit("web on two clusters", {
      "ferry/apps.yaml": [app("web-eu", "apps/web", "eu"), app("web-us", "apps/web", "us")].join("---\n"),
      "apps/web/config.yaml": CONFIG_MAP,
    });
    const valid = await s.ferry("validate", s.repo);
    assert.equal(valid.code, 0, outputOf(valid));

    await s.commit("web twice on eu", { "ferry/apps.yaml": [app("web-eu", "apps/web", "eu"), app("web-eu2", "apps/web", "eu")].join("---\n") });
    const twice = await s.ferry("validate", s.repo);
    assert.equal(twice.code, 1, outputOf(twice));
    assert.match(twice.stdout, /apps\/web\/config\.yaml:4:\d+: .*ConfigMap\/shop\/web is declared by applications "web-eu" .* and "web-eu2"/);
  });

  test("an application name longer than a label value is refused at its line", async (t) => {
    const s = await Scenario.create();
    t.after(() => s.cleanup());
    const long = `web-${"a".repeat(60)}`;
    await s.commit("a long name", { "ferry/apps.yaml": app(long, "apps/web"), "apps/web/config.yaml": CONFIG_MAP });
    const result = await s.ferry("validate", s.repo);
    assert.equal(result.code, 1, outputOf(result));
    assert.match(result.stdout, new RegExp(`ferry/apps\\.yaml:4:\\d+: .*"${long}" is 64 characters long: an application name is at most 63`));
  });

  test("kind: List is unrolled with each item's lines; JSON manifests are read, JSON data is not", async (t) => {
    const s = await Scenario.create();
    t.after(() => s.cleanup());
    const list = [
      "apiVersion: v1",
      "kind: List",
      "items:",
      "  - apiVersion: v1",
      "    kind: ConfigMap",
      "    metadata:",
      "      name: from-kubectl",
      "    data: {a: b}",
      "  - apiVersion: v1",
      "    kind: ConfigMap",
      "    metadata:",
      "      name: bad_name",
      "metadata:",
      "  resourceVersion: \"\"",
      "",
    ].join("\n");
    const json = JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "from-json" }, data: { c: "d" } }, null, 2);
    await s.commit("kubectl output", {
      "ferry/apps.yaml": app("web", "apps/web"),
      "apps/web/list.yaml": list,
      "apps/web/config.json": json,
      "apps/web/settings.json": '{"not": "a manifest"}',
    });
    const broken = await s.ferry("validate", s.repo);
    assert.equal(broken.code, 1, outputOf(broken));
    assert.match(broken.stdout, /apps\/web\/list\.yaml:12:\d+: .*"bad_name" is not a valid name/);
    assert.doesNotMatch(broken.stdout, /list\.yaml:1:/, "the List itself needs no name");

    await s.commit("fixed", { "apps/web/list.yaml": list.replace("bad_name", "second") });
    const fixed = await s.ferry("validate", s.repo);
    assert.equal(fixed.code, 0, outputOf(fixed));
    assert.match(fixed.stdout, /^valid \(1 application, 3 files, 4 objects/m, "the Application, two items of the List and the JSON manifest; the JSON data file is no object");
  });
});
