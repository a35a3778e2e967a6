import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import { escapeData, escapeProperty, githubAnnotation, reportJson } from "./format-report.js";
import { validateRepository } from "./validate-repository.js";
import { seededRandom } from "../core/seeded-random.js";

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function repository(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "ferry-validate-"));
  dirs.push(dir);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}

const APP = "apiVersion: ferry.dev/v1\nkind: Application\nmetadata:\n  name: web\nspec:\n  source:\n    path: apps/web\n";
const SERVICE = `apiVersion: host.ferry.dev/v1
kind: Service
metadata:
  name: web
  labels:
    team: shop
spec:
  command: node
  args: [server.mjs, --port, "8080"]
  env:
    GREETING: hello
  workingDir: web
---
apiVersion: host.ferry.dev/v1
kind: File
metadata:
  name: web-config
spec:
  path: web/config.json
  content: |
    { "greeting": "hello" }
`;

describe("validateRepository", () => {
  it("takes environments over one base in their namespaces as different objects, and refuses two owners of one object or one path", async () => {
    const app = (env: string, namespace: boolean) =>
      `apiVersion: ferry.dev/v1\nkind: Application\nmetadata:\n  name: web-${env}\nspec:\n  source:\n    path: apps/web/envs/${env}\n${namespace ? `  namespace: ${env}\n` : ""}`;
    const overlay = (env: string) => ({
      [`apps/web/envs/${env}/ferry-overlay.yaml`]: `apiVersion: ferry.dev/v1\nkind: Overlay\nspec:\n  bases: [../../base]\n  commonLabels: {environment: ${env}}\n`,
      [`apps/web/envs/${env}/config.yaml`]: `apiVersion: host.ferry.dev/v1\nkind: File\nmetadata:\n  name: web-config\nspec:\n  path: web-${env}/config.json\n`,
    });
    const files: Record<string, string> = { "apps/web/base/web.yaml": SERVICE, ...overlay("dev"), ...overlay("prd") };
    const apart = await validateRepository(await repository({ ...files, "ferry/apps.yaml": [app("dev", true), app("prd", true)].join("---\n") }));
    assert.deepEqual(apart.problems, []);
    assert.equal(apart.objects, 6);

    const together = await validateRepository(await repository({ ...files, "ferry/apps.yaml": [app("dev", false), app("prd", false)].join("---\n") }));
    assert.deepEqual(
      together.problems.map((p) => [p.rule, p.message.replace(/ \(at .*\)/, "")]),
      [
        ["duplicates", 'Service/web is declared by applications "web-dev" and "web-prd": one object can have one owner'],
        ["duplicates", 'File/web-config is declared by applications "web-dev" and "web-prd": one object can have one owner'],
      ],
    );

    const samePath = { ...files, "apps/web/envs/prd/config.yaml": files["apps/web/envs/dev/config.yaml"] ?? "" };
    const shared = await validateRepository(await repository({ ...samePath, "ferry/apps.yaml": [app("dev", true), app("prd", true)].join("---\n") }));
    assert.deepEqual(
      shared.problems.map((p) => [p.rule, `${p.location.file}:${p.location.line}`, p.message]),
      [["duplicates", "apps/web/envs/prd/config.yaml:6", 'path "web-dev/config.json" is also written by File/dev/web-config (at apps/web/envs/dev/config.yaml:6:9): one path can have one owner; give one of them another spec.path (an overlay\'s patch)']],
    );
  });

  it("cannot run without a directory or without Application documents", async () => {
    await assert.rejects(validateRepository(join(tmpdir(), "ferry-no-such-dir-1")), /is not a directory/);
    const empty = await repository({ "ferry/README.md": "nothing\n" });
    await assert.rejects(validateRepository(empty), /no Application documents found in ferry\//);
    await assert.rejects(validateRepository(empty, { configPath: "elsewhere" }), /directory elsewhere not found/);
  });

  it("compiles HealthRules and reports a broken expression, a rule matching nothing and two rules for one kind, with file and line", async () => {
    const rule = (name: string, group: string, kind: string, healthy = "has(status.ready) && status.ready"): string =>
      `---\napiVersion: ferry.dev/v1\nkind: HealthRule\nmetadata:\n  name: ${name}\nspec:\n  match:\n    - group: "${group}"\n      kind: "${kind}"\n  degraded: "false"\n  progressing: "!has(status.ready)"\n  healthy: "${healthy}"\n`;
    const crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets}\n  scope: Namespaced\n  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}]\n";
    const kubeApp = "apiVersion: ferry.dev/v1\nkind: Application\nmetadata:\n  name: web\nspec:\n  target: kubernetes\n  source:\n    path: apps/web\n";
    const config = kubeApp + rule("widgets", "example.com", "Widget") + rule("certificates", "cert-manager.io", "Certificate", "status.ready ==") + rule("typo", "example.com", "Widgte") + rule("again", "example.com", "Widget") + rule("providers", "*.example.org", "*");
    const dir = await repository({ "ferry/apps.yaml": config, "apps/web/crd.yaml": crd });
    const problems = (await validateRepository(dir)).problems.map((p) => `${p.location.file}:${p.location.line} ${p.rule}: ${p.message}`);
    assert.deepEqual(problems, [
      'ferry/apps.yaml:32 schema: health rule "certificates": spec.healthy is not valid CEL: column 14: found = but expecting end of input',
      'ferry/apps.yaml:40 references: health rule "typo" matches nothing: no built-in rule, CustomResourceDefinition or object in this repository is of kind Widgte in group "example.com" (check the spelling, or use a wildcard for kinds defined elsewhere)',
      'ferry/apps.yaml:52 duplicates: health rules "widgets" (at ferry/apps.yaml:13:9) and "again" both match example.com/Widget: keep one',
    ]);
  });

  it("judges absolute paths only against a given root", async () => {
    const file = "apiVersion: host.ferry.dev/v1\nkind: File\nmetadata:\n  name: f\nspec:\n  path: /srv/app/f\n  content: x\n";
    const dir = await repository({ "ferry/apps.yaml": APP, "apps/web/f.yaml": file });
    assert.deepEqual((await validateRepository(dir)).problems, []);
    const [problem] = (await validateRepository(dir, { root: "/var/lib/ferry" })).problems;
    assert.match(problem?.message ?? "", /escapes the allowed root \/var\/lib\/ferry/);
    assert.deepEqual((await validateRepository(dir, { root: "/srv" })).problems, []);
  });

  it("checks a Pipeline's environments against the Applications, on their lines", async () => {
    const app = (env: string): string => APP.replace("name: web", `name: web-${env}`) + `  environment: ${env}\n`;
    const pipeline = "apiVersion: ferry.dev/v1\nkind: Pipeline\nmetadata:\n  name: web\nspec:\n  environments:\n    - name: dev\n    - name: acc\n    - name: dev\n";
    const dir = await repository({ "ferry/apps.yaml": app("dev"), "ferry/pipeline.yaml": pipeline, "apps/web/s.yaml": SERVICE });
    assert.deepEqual(
      (reportJson(await validateRepository(dir)) as { file: string; line: number; field: string; rule: string; message: string }[]).map((p) => [p.file, p.line, p.field, p.rule, p.message.split(":")[0]]),
      [
        ["ferry/pipeline.yaml", 8, "spec.environments[1].name", "references", 'unknown environment "acc"'],
        ["ferry/pipeline.yaml", 9, "spec.environments[2].name", "references", 'environment "dev" is listed twice (first at position 1)'],
      ],
    );
  });

  it("reports every problem of a Pipeline at once: a schema error does not hide its unknown environment and application", async () => {
    const app = (env: string): string => APP.replace("name: web", `name: web-${env}`) + `  environment: ${env}\n`;
    const pipeline = [
      "apiVersion: ferry.dev/v1",
      "kind: Pipeline",
      "metadata:",
      "  name: web",
      "spec:",
      "  environments:",
      "    - name: dev",
      "      verify: {timeout: soon}",
      "    - name: acc",
      "    - name: prd",
      "      application: web-prd",
      "",
    ].join("\n");
    const dir = await repository({ "ferry/apps.yaml": app("dev"), "ferry/pipeline.yaml": pipeline, "apps/web/s.yaml": SERVICE });
    assert.deepEqual(
      (reportJson(await validateRepository(dir)) as { file: string; line: number; field: string; rule: string; message: string }[]).map((p) => [p.line, p.field, p.rule, p.message.split(":")[0]]),
      [
        [8, "spec.environments[0].verify.timeout", "schema", 'invalid duration "soon"'],
        [9, "spec.environments[1].name", "references", 'unknown environment "acc"'],
        [11, "spec.environments[2].application", "references", 'unknown application "web-prd"'],
      ],
    );
  });

  it("refuses a verification that cannot run again for each version, on the line of verify.job", async () => {
    const app = (env: string): string => APP.replace("name: web", `name: web-${env}`).replace("apps/web", `apps/${env}`) + `  environment: ${env}\n`;
    const job = "apiVersion: host.ferry.dev/v1\nkind: Job\nmetadata:\n  name: smoke\nspec:\n  command: node\n  args: [smoke.mjs]\n";
    const pipeline = (devJob: string, accJob: string): string =>
      `apiVersion: ferry.dev/v1\nkind: Pipeline\nmetadata:\n  name: web\nspec:\n  environments:\n    - name: dev\n      verify: {job: ${devJob}}\n    - name: acc\n      verify: {job: ${accJob}}\n`;
    // Service web-<env>, File web-<env>-config (at web-<env>/config.json), Job smoke-<env>.
    const objects = (env: string): string => `${SERVICE}---\n${job}`.replace(/name: (web|smoke)/g, `name: $1-${env}`).replace("path: web/config.json", `path: web-${env}/config.json`);
    const files = { "ferry/apps.yaml": `${app("dev")}---\n${app("acc")}`, "apps/dev/s.yaml": objects("dev"), "apps/acc/s.yaml": objects("acc") };
    assert.deepEqual((await validateRepository(await repository({ ...files, "ferry/pipeline.yaml": pipeline("smoke-dev", "smoke-acc") }))).problems, []);
    const refused = await validateRepository(await repository({ ...files, "ferry/pipeline.yaml": pipeline("smoke", "web-acc-config") }));
    assert.deepEqual(
      refused.problems.map((p) => `${p.location.file}:${p.location.line}: ${p.message}`),
      [
        'ferry/pipeline.yaml:8: verify.job "smoke": application web-dev declares no Job of that name, so nothing can verify each version in dev',
        'ferry/pipeline.yaml:10: verify.job "web-acc-config" of acc cannot be run again for each version: a File is not a Job: only a Job runs to completion, once more for each version',
      ],
    );
  });

  it("reports json with file, line, column, field, severity, message and rule", async () => {
    const dir = await repository({ "ferry/apps.yaml": APP, "apps/web/s.yaml": SERVICE.replace("  command: node", "  comand: node") });
    const json = reportJson(await validateRepository(dir));
    assert.deepEqual(json[1], {
      file: "apps/web/s.yaml",
      line: 8,
      column: 11,
      field: "spec.comand",
      severity: "error",
      message: 'unknown field "comand" (did you mean "command"?)',
      rule: "schema",
    });
  });
});

describe("github annotations", () => {
  it("escape data and properties as the runner expects", () => {
    assert.equal(escapeData("100% done\r\nnext"), "100%25 done%0D%0Anext");
    assert.equal(escapeProperty("a:b,c%"), "a%3Ab%2Cc%25");
    const line = githubAnnotation({
      severity: "warning",
      message: "line one\nline: two, 50%",
      field: "/spec/args/0",
      location: { file: "apps/a,b:c.yaml", line: 3, column: 7 },
      rule: "policy/no-latest",
    });
    assert.equal(line, "::warning file=apps/a%2Cb%3Ac.yaml,line=3,col=7,title=policy/no-latest::spec.args[0]: line one%0Aline: two, 50%25");
  });
});

/** A small deterministic generator (mulberry32), so a failure can be replayed. */

describe("validateRepository on malformed input", () => {
  it("never crashes or hangs, and every problem names a file and line (300 mutations, seed 6)", async () => {
    const next = seededRandom(6);
    const dir = await repository({ "ferry/apps.yaml": APP, "apps/web/s.yaml": SERVICE });
    const bytes = Buffer.from(SERVICE, "utf8");
    const noise = [":", "-", "[", "{", "&a", "*a", "!!", "\t", "\0", '"', "'", "#", "\n", " ", "|", ">", "\uFFFD", "%"];
    for (let i = 0; i < 300; i++) {
      let mutated: Buffer;
      const kind = i % 3;
      if (kind === 0) mutated = bytes.subarray(0, Math.floor(next() * bytes.length));
      else if (kind === 1) {
        mutated = Buffer.from(bytes);
        for (let flips = 1 + Math.floor(next() * 4); flips > 0; flips--) {
          const at = Math.floor(next() * mutated.length);
          mutated[at] = (mutated[at] ?? 0) ^ (1 << Math.floor(next() * 8));
        }
      } else {
        const text = SERVICE;
        const at = Math.floor(next() * text.length);
        const insert = noise[Math.floor(next() * noise.length)] ?? "";
        mutated = Buffer.from(text.slice(0, at) + insert + text.slice(at + Math.floor(next() * 3)), "utf8");
      }
      await writeFile(join(dir, "apps/web/s.yaml"), mutated);
      const started = Date.now();
      const report = await validateRepository(dir);
      assert.ok(Date.now() - started < 5000, `mutation ${i} took ${Date.now() - started} ms`);
      for (const problem of report.problems) {
        assert.ok(problem.location.file.length > 0 && problem.location.line >= 1 && problem.location.column >= 1, `mutation ${i}: ${JSON.stringify(problem)}`);
        assert.ok(problem.message.length > 0, `mutation ${i}: empty message`);
      }
    }
  });
});
