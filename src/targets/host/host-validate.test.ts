import assert from "node:assert/strict";
import { test } from "node:test";
import type { JsonObject } from "../../core/json.js";
import { formatProblem } from "../../core/errors.js";
import { createHostTarget } from "./host-target.js";
import { hostObject } from "../../../test/support/host-test-support.js";

const target = createHostTarget({ root: "/srv/ferry", stateDir: "/var/lib/ferry-never-created" });

function problems(kind: string, spec: JsonObject, name = "web"): string[] {
  return target.validate(hostObject(kind, name, spec)).map(formatProblem);
}

test("a complete service spec is valid", () => {
  const spec = {
    command: "node",
    args: ["server.js"],
    env: { PORT: "8080" },
    workingDir: "apps/web",
    healthCheck: { http: { url: "http://127.0.0.1:8080/healthz" }, intervalSeconds: 5, startPeriodSeconds: 10 },
    restart: { policy: "on-failure", backoffSeconds: 2, maxBackoffSeconds: 60 },
    stop: { signal: "SIGINT", gracePeriodSeconds: 30 },
  };
  assert.deepEqual(problems("Service", spec), []);
});

test("a typo is an unknown field, named with its line", () => {
  assert.deepEqual(problems("Service", { comand: "node" }), [
    "deploy/app.yaml:6:14: spec.command: required field is missing (expected string)",
    'deploy/app.yaml:5:3: spec.comand: unknown field "comand" (did you mean "command"?)',
  ]);
});

test("kind-specific rules: one probe, one content source, octal modes, the allowed root", () => {
  assert.deepEqual(problems("Service", { command: "x", healthCheck: { http: { url: "http://a/" }, tcp: { port: 80 } } }), [
    "deploy/app.yaml:5:3: spec.healthCheck: exactly one of http, tcp or exec is required",
  ]);
  assert.deepEqual(problems("Service", { command: "x", restart: { policy: "sometimes" } }), [
    'deploy/app.yaml:5:3: spec.restart.policy: invalid option: expected one of "always"|"on-failure"|"never"',
  ]);
  assert.deepEqual(problems("File", { path: "a", content: "x", contentFrom: "b" }), ["deploy/app.yaml:5:3: spec.contentFrom: set either content or contentFrom, not both"]);
  assert.deepEqual(problems("File", { path: "a" }), ["deploy/app.yaml:5:3: spec: one of content or contentFrom is required"]);
  assert.deepEqual(problems("File", { path: "a", content: "", mode: "rw-r--r--" }), ['deploy/app.yaml:5:3: spec.mode: mode must be an octal string like "0644"']);
  assert.deepEqual(problems("Job", { command: "x", workingDir: "../elsewhere" }), [
    'deploy/app.yaml:5:3: spec.workingDir: working directory "../elsewhere" escapes the allowed root /srv/ferry',
  ]);
  const wrongType = problems("Job", { command: "x", timeoutSeconds: "5m" });
  assert.equal(wrongType.length, 1);
  assert.match(wrongType[0] ?? "", /^deploy\/app\.yaml:5:3: spec\.timeoutSeconds: /);
});

test("names must be safe as file names; a namespace comes from the object, else its application, and default is none", () => {
  assert.equal(problems("Job", { command: "x" }, "../../etc").length, 1);
  const object = hostObject("Job", "migrate", { command: "x" });
  const namespaced = { ...object, manifest: { ...object.manifest, metadata: { name: "migrate", namespace: "prod" } } };
  assert.deepEqual(target.validate(namespaced), []);
  const prepare = target.prepare;
  assert.ok(prepare, "the host target puts objects into their application's namespace");
  const keys = (ns: string | undefined, objects = [object, namespaced]) => prepare(objects, ns === undefined ? {} : { namespace: ns }).map((o) => [o.key, o.manifest.metadata.namespace]);
  assert.deepEqual(keys("dev"), [
    ["host.ferry.dev/Job/dev/migrate", "dev"],
    ["host.ferry.dev/Job/prod/migrate", "prod"],
  ]);
  // The default namespace keeps the keys (and records) from before namespaces.
  assert.deepEqual(keys(undefined), [
    ["host.ferry.dev/Job//migrate", undefined],
    ["host.ferry.dev/Job/prod/migrate", "prod"],
  ]);
  assert.deepEqual(keys("default"), keys(undefined));
});

test("one path, one owner: a second File writing a path is refused at its line, whatever its namespace", () => {
  const config = (name: string, path: string, namespace?: string) => {
    const object = hostObject("File", name, { path, content: name }, `envs/${namespace ?? "default"}/files.yaml`);
    const [prepared] = target.prepare?.([{ ...object, manifest: { ...object.manifest, metadata: { name, ...(namespace ? { namespace } : {}) } } }], {}) ?? [];
    assert.ok(prepared);
    return prepared;
  };
  const dev = config("config", "web/config.json", "dev");
  const prd = config("config", "./web//config.json", "prd");
  const moved = config("config", "web-acc/config.json", "acc");
  const validator = target.withObjects?.([dev, prd, moved]);
  assert.ok(validator);
  assert.deepEqual(validator.validate(dev), []);
  assert.deepEqual(validator.validate(moved), []);
  assert.deepEqual(validator.validate(prd).map(formatProblem), [
    'envs/prd/files.yaml:6:11: spec.path: path "/srv/ferry/web/config.json" is also written by File/dev/config (at envs/dev/files.yaml:6:11): one path can have one owner; give one of them another spec.path (an overlay\'s patch)',
  ]);
});

test("only host.ferry.dev/v1 kinds are supported", () => {
  assert.equal(target.supports("host.ferry.dev/v1", "Service"), true);
  assert.equal(target.supports("host.ferry.dev/v1", "Deployment"), false);
  assert.equal(target.supports("apps/v1", "Service"), false);
  const object = hostObject("Service", "web", { command: "x" });
  const foreign = { ...object, manifest: { ...object.manifest, apiVersion: "v1" } };
  assert.match(target.validate(foreign).map(formatProblem).join(), /apiVersion "v1" is not managed by the host target/);
});

test("problems of a service's environment name the variable, never a value", () => {
  const found = problems("Service", { command: "node", env: { "DB=PASSWORD": "hunter2", API_TOKEN: 42 }, secretEnv: ["LICENSE", ""] }).join("\n");
  assert.match(found, /spec\.env/);
  assert.match(found, /spec\.secretEnv/);
  assert.doesNotMatch(found, /hunter2|42/);
});
