import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatProblem } from "../core/errors.js";
import { renderPlain } from "../render/render-plain.js";
import { findCycles, loadApplications } from "./load-config.js";
import { NOTIFICATION_EVENTS } from "./notification.js";

/** One file per application, named after it, rendered as the agent would. */
function load(apps: Record<string, string | readonly string[]>, extra = "") {
  const files = Object.entries(apps).map(([name, deps]) => ({
    path: `config/${name}.yaml`,
    content:
      typeof deps === "string"
        ? deps
        : `apiVersion: ferry.dev/v1\nkind: Application\nmetadata:\n  name: ${name}\nspec:\n  source:\n    path: apps/${name}\n  dependsOn: [${deps.join(", ")}]\n`,
  }));
  if (extra) files.push({ path: "config/zz-extra.yaml", content: extra });
  const rendered = renderPlain(files);
  assert.deepEqual(rendered.problems, []);
  const result = loadApplications(rendered.objects);
  return { names: result.applications.map((a) => a.name), problems: result.problems.map(formatProblem), applications: result.applications };
}

describe("loadApplications", () => {
  it("returns valid applications sorted by name", () => {
    const { names, problems, applications } = load({ web: ["db"], db: [], cache: ["db"] });
    assert.deepEqual(problems, []);
    assert.deepEqual(names, ["cache", "db", "web"]);
    assert.deepEqual(applications.find((a) => a.name === "web")?.spec.dependsOn, ["db"]);
  });

  it("returns nothing, without problems, for an empty config path", () => {
    assert.deepEqual(loadApplications([]), { applications: [], policies: [], notifications: [], pipelines: [], healthRules: [], problems: [] });
  });

  it("refuses other kinds at the config path, at their line", () => {
    const { names, problems } = load({ web: [] }, "# stray\napiVersion: host.ferry.dev/v1\nkind: Service\nmetadata:\n  name: web\n");
    assert.deepEqual(names, ["web"]);
    assert.deepEqual(problems, ['config/zz-extra.yaml:2:1: unknown kind "Service" (apiVersion host.ferry.dev/v1) at the config path: expected ferry.dev/v1 Application, Policy, Notification, Pipeline or HealthRule']);
  });

  it("names the line of a dependency that is not declared", () => {
    const { names, problems } = load({ web: ["db", "redis"], db: [] });
    assert.deepEqual(names, ["db"]);
    assert.deepEqual(problems, ['config/web.yaml:8:19: spec.dependsOn[1]: unknown application "redis": no Application of that name at the config path']);
  });

  it("refuses an application that depends on itself", () => {
    const { names, problems } = load({ web: ["web"] });
    assert.deepEqual(names, []);
    assert.deepEqual(problems, ['config/web.yaml:8:15: spec.dependsOn[0]: application "web" depends on itself']);
  });

  it("names a cycle of three at the entry that closes it, and keeps the rest", () => {
    const { names, problems } = load({ a: ["b"], b: ["c"], c: ["d", "a"], d: [], e: ["d"] });
    assert.deepEqual(names, ["d", "e"]);
    assert.deepEqual(problems, ["config/c.yaml:8:18: spec.dependsOn[1]: dependency cycle: a -> b -> c -> a"]);
  });

  it("reports a two-way cycle once, and a cycle among applications with other problems too", () => {
    assert.deepEqual(load({ a: ["b"], b: ["a"] }).problems, ["config/b.yaml:8:15: spec.dependsOn[0]: dependency cycle: a -> b -> a"]);
    const broken = "apiVersion: ferry.dev/v1\nkind: Application\nmetadata:\n  name: b\nspec:\n  source:\n    path: ../x\n  dependsOn: [a]\n";
    assert.deepEqual(load({ a: ["b"], b: broken }).problems, [
      'config/b.yaml:7:11: spec.source.path: must stay inside the repository: ".." is not allowed',
      "config/b.yaml:8:15: spec.dependsOn[0]: dependency cycle: a -> b -> a",
    ]);
  });

  it("refuses the same name twice even in different namespaces", () => {
    const twin = "apiVersion: ferry.dev/v1\nkind: Application\nmetadata:\n  name: web\n  namespace: other\nspec:\n  source:\n    path: x\n";
    const { names, problems } = load({ web: [] }, twin);
    assert.deepEqual(names, ["web"]);
    assert.deepEqual(problems, ['config/zz-extra.yaml:4:9: metadata.name: application "web" is declared twice: first at config/web.yaml:4:9']);
  });

  it("reports problems in file and line order", () => {
    const { problems } = load({ b: ["x"], a: ["y"] });
    assert.deepEqual(problems.map((p) => p.split(":")[0]), ["config/a.yaml", "config/b.yaml"]);
  });
});

describe("Notification documents", () => {
  const notification = (spec: string): string => `apiVersion: ferry.dev/v1\nkind: Notification\nmetadata:\n  name: team\nspec:\n${spec}`;

  it("are read with their defaults beside the applications", () => {
    const files = [{ path: "config/n.yaml", content: notification("  type: slack\n  urlFrom:\n    env: SLACK_URL\n  applications: [web]\n") }];
    const result = loadApplications(renderPlain(files).objects);
    assert.deepEqual(result.problems, []);
    assert.deepEqual(result.notifications, [
      { name: "team", type: "slack", target: { env: "SLACK_URL" }, events: [...NOTIFICATION_EVENTS], applications: ["web"] },
    ]);
    assert.ok(NOTIFICATION_EVENTS.includes("PromotionAwaitingApproval"), "the default includes the promotion events");
  });

  it("filter on the promotion events", () => {
    const files = [{ path: "config/n.yaml", content: notification("  url: https://example.com/hook\n  events: [PromotionAwaitingApproval, PromotionSucceeded, PromotionFailed]\n") }];
    const result = loadApplications(renderPlain(files).objects);
    assert.deepEqual(result.problems, []);
    assert.deepEqual(result.notifications[0]?.events, ["PromotionAwaitingApproval", "PromotionSucceeded", "PromotionFailed"]);
  });

  it("name the field and line of what is wrong", () => {
    const problems = (spec: string): string[] =>
      loadApplications(renderPlain([{ path: "config/n.yaml", content: notification(spec) }]).objects).problems.map(formatProblem);
    assert.deepEqual(problems("  url: ftp://example.com/hook\n"), ["config/n.yaml:6:8: spec.url: must be an http or https URL"]);
    assert.match(problems("  url: https://example.com/hook\n  events: [SyncFailed, Deployed]\n")[0] ?? "", /^config\/n\.yaml:7:24: spec\.events\[1\]: /);
    assert.match(problems("  url: https://example.com/hook\n  urlFrom:\n    env: HOOK\n")[0] ?? "", /give exactly one of url and urlFrom/);
  });
});

describe("findCycles", () => {
  const graph = (edges: Record<string, string[]>) => new Map(Object.entries(edges).map(([k, v]) => [k, v.map((name, index) => ({ name, index }))]));

  it("finds nothing in a tree, and ignores unknown names and self loops", () => {
    assert.deepEqual(findCycles(graph({ a: ["b", "c"], b: ["c"], c: ["zz", "c"] })), []);
  });

  it("finds each cycle, starting from the first name", () => {
    assert.deepEqual(findCycles(graph({ c: ["a"], a: ["b"], b: ["c"], x: ["y"], y: ["x"] })), [
      ["a", "b", "c", "a"],
      ["x", "y", "x"],
    ]);
  });
});
