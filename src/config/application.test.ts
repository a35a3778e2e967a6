import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatProblem } from "../core/errors.js";
import type { RenderedObject } from "../core/objects.js";
import { renderPlain } from "../render/render-plain.js";
import { APPLICATION_DEFAULTS, applicationSpecSchema, MAX_INTERVAL_MS, normalizeApplication } from "./application.js";

/** Renders one YAML document as the agent would, at `config/web.yaml`. */
function objectOf(yaml: string): RenderedObject {
  const result = renderPlain([{ path: "config/web.yaml", content: yaml }]);
  assert.deepEqual(result.problems, []);
  const [object] = result.objects;
  assert.ok(object);
  return object;
}

const HEAD = "apiVersion: ferry.dev/v1\nkind: Application\nmetadata:\n  name: web\nspec:\n";
const normalize = (spec: string) => normalizeApplication(objectOf(HEAD + spec));
const problemsOf = (spec: string) => normalize(spec).problems.map(formatProblem);

describe("normalizeApplication", () => {
  it("fills every default for the smallest application", () => {
    const { application, problems } = normalize("  source:\n    path: apps/web\n");
    assert.deepEqual(problems, []);
    assert.equal(application?.name, "web");
    assert.deepEqual(application?.spec, {
      source: { path: "apps/web" },
      target: "host",
      syncPolicy: { automated: true, prune: true, selfHeal: true, interval: 60_000 },
      dependsOn: [],
      suspend: false,
    });
    assert.equal(application?.origin.file, "config/web.yaml");
    assert.equal(APPLICATION_DEFAULTS.interval, "1m");
  });

  it("keeps what the user wrote, normalizing the path and dropping repeated dependencies", () => {
    const { application, problems } = normalize(
      [
        "  source: {path: ./apps//web/, repoURL: /srv/git/other.git, ref: v1.2.0}",
        "  target: edge-1",
        "  syncPolicy: {automated: false, selfHeal: false, interval: 1h30m}",
        "  dependsOn: [db, cache, db]",
        "  suspend: true",
        "",
      ].join("\n"),
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(application?.spec, {
      source: { path: "apps/web", repoURL: "/srv/git/other.git", ref: "v1.2.0" },
      target: "edge-1",
      syncPolicy: { automated: false, prune: true, selfHeal: false, interval: 5_400_000 },
      dependsOn: ["db", "cache"],
      suspend: true,
    });
  });

  it("reads the repository root as .", () => {
    assert.equal(normalize("  source:\n    path: ./\n").application?.spec.source.path, ".");
  });

  it("names the line of a typo and suggests the field", () => {
    assert.deepEqual(problemsOf("  source:\n    path: apps/web\n  syncPolicy:\n    prun: false\n"), [
      'config/web.yaml:9:5: spec.syncPolicy.prun: unknown field "prun" (did you mean "prune"?)',
    ]);
    // A misspelt mapping is named at its key, not at the first field inside it.
    assert.deepEqual(problemsOf("  source:\n    path: apps/web\n  syncPolcy:\n    prune: false\n"), [
      'config/web.yaml:8:3: spec.syncPolcy: unknown field "syncPolcy" (did you mean "syncPolicy"?)',
    ]);
  });

  it("says a field is missing only when it is, and names the wrong type otherwise", () => {
    // A missing field is located at its parent's key.
    assert.deepEqual(problemsOf("  syncPolicy: {}\n"), ["config/web.yaml:5:1: spec.source: required field is missing (expected object)"]);
    assert.deepEqual(problemsOf("  source:\n    path: 42\n  suspend: \"yes\"\n"), [
      "config/web.yaml:7:11: spec.source.path: must be a string, got a number",
      "config/web.yaml:8:12: spec.suspend: must be a boolean, got a string",
    ]);
    assert.deepEqual(problemsOf("  source:\n    path:\n"), ["config/web.yaml:7:5: spec.source.path: must be a string, got null"]);
    assert.deepEqual(problemsOf("  source: {path: a}\n  dependsOn: db\n"), ["config/web.yaml:7:14: spec.dependsOn: must be a list, got a string"]);
  });

  it("refuses paths that leave the repository", () => {
    for (const path of ["../../etc", "apps/../../etc", "/etc", "C:/Windows", "apps\\\\web"]) {
      const [problem] = normalize(`  source:\n    path: "${path}"\n`).problems;
      assert.match(problem?.message ?? "", /must stay inside|must be relative|forward slashes/, path);
      assert.equal(problem?.field, "/spec/source/path");
    }
  });

  it("checks the interval", () => {
    const intervalProblem = (interval: string) => normalize(`  source: {path: a}\n  syncPolicy:\n    interval: ${interval}\n`).problems[0]?.message;
    assert.equal(intervalProblem("45s"), undefined);
    assert.equal(intervalProblem("500ms"), undefined);
    assert.match(intervalProblem("5 minutes") ?? "", /^invalid duration "5 minutes": use a Go-style duration/);
    assert.equal(intervalProblem("0s"), "must be at least 1ms");
    assert.equal(intervalProblem("597h"), "must be at most 596h");
    assert.ok(MAX_INTERVAL_MS < 2 ** 31);
  });

  it("never repeats a credential from a repository URL", () => {
    const [problem] = normalize("  source:\n    path: a\n    repoURL: https://bot:hunter2@git.example.com/x.git\n").problems;
    assert.match(problem?.message ?? "", /must not contain credentials/);
    assert.doesNotMatch(formatProblem(problem!), /hunter2/);
    const [token] = normalize("  source:\n    path: a\n    repoURL: https://ghp_abcdef@github.com/x.git\n").problems;
    assert.match(token?.message ?? "", /must not contain credentials/);
    assert.deepEqual(normalize("  source:\n    path: a\n    repoURL: ssh://git@github.com/x.git\n").problems, []);
    assert.deepEqual(normalize("  source:\n    path: a\n    repoURL: git@github.com:x/y.git\n").problems, []);
  });

  it("refuses refs and URLs git would read as options", () => {
    assert.match(problemsOf("  source: {path: a, ref: --upload-pack=x}\n")[0] ?? "", /spec\.source\.ref: not a valid branch or tag name/);
    assert.match(problemsOf("  source: {path: a, repoURL: -oProxyCommand=x}\n")[0] ?? "", /spec\.source\.repoURL: must not start with "-"/);
    assert.match(problemsOf('  source: {path: a, repoURL: "ext::sh -c id"}\n')[0] ?? "", /spec\.source\.repoURL: must not contain spaces/);
    assert.match(problemsOf("  source: {path: a, repoURL: ext::ssh}\n")[0] ?? "", /ext:: and fd:: transports/);
  });

  it("refuses a document of another kind", () => {
    const object = objectOf("apiVersion: ferry.dev/v2\nkind: Application\nmetadata:\n  name: web\nspec:\n  source: {path: a}\n");
    assert.match(normalizeApplication(object).problems.map(formatProblem).join("\n"), /apiVersion: invalid input: expected "ferry\.dev\/v1"/);
  });

  it("exposes the loose input shape for tools", () => {
    assert.equal(applicationSpecSchema.safeParse({ source: { path: "a" } }).success, true);
    assert.equal(applicationSpecSchema.safeParse({ source: { path: "a" }, extra: 1 }).success, false);
  });
});
