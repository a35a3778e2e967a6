import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ResourceKey } from "../core/ids.js";
import { hostSecretFields } from "../targets/host/host-secrets.js";
import { makeObject } from "../../test/support/target-testing.js";
import type { LiveObject } from "../targets/target.js";
import { diffObjects } from "./diff-objects.js";
import { formatDiffs, toDiffView } from "./format-diff.js";
import { isSecretName, maskDifferences, SECRET_MARKER, secretFieldsOf } from "./secrets.js";

const service = (env: Record<string, string>, extra: { secretEnv?: string[]; annotations?: Record<string, string> } = {}) =>
  makeObject({
    apiVersion: "host.ferry.dev/v1",
    kind: "Service",
    metadata: { name: "api", ...(extra.annotations ? { annotations: extra.annotations } : {}) },
    spec: { command: "node", env, ...(extra.secretEnv ? { secretEnv: extra.secretEnv } : {}) },
  });

function diffOne(desiredEnv: Record<string, string>, liveEnv: Record<string, string>, extra: Parameters<typeof service>[1] = {}) {
  const object = service(desiredEnv, extra);
  const secret = secretFieldsOf(object, hostSecretFields(object));
  const live = new Map<ResourceKey, LiveObject>([[object.key, { key: object.key, state: { command: "node", env: liveEnv } }]]);
  return diffObjects([{ object, state: { command: "node", env: desiredEnv }, ...(secret ? { secret } : {}) }], live, []);
}

describe("secret masking", () => {
  it("knows secret-looking names", () => {
    for (const name of ["DB_PASSWORD", "passwd", "CLIENT_SECRET", "GITHUB_TOKEN", "API_KEY", "apikey", "SSH_PRIVATE_KEY", "AWS_CREDENTIALS"]) assert.ok(isSecretName(name), name);
    for (const name of ["PORT", "DATABASE_URL", "GREETING"]) assert.ok(!isSecretName(name), name);
  });

  it("masks env values whose name looks secret, keeps the others, and still tells changed from unchanged", () => {
    const [changed] = diffOne({ DB_PASSWORD: "hunter3", PORT: "8080" }, { DB_PASSWORD: "hunter2", PORT: "8081" });
    assert.equal(changed?.type, "changed");
    if (changed?.type !== "changed") return;
    assert.deepEqual(changed.differences, [
      { path: "/env/DB_PASSWORD", desired: SECRET_MARKER, live: SECRET_MARKER },
      { path: "/env/PORT", desired: "8080", live: "8081" },
    ]);
    assert.equal(formatDiffs([toDiffView(changed)]), '~ Service/api\n    env.DB_PASSWORD: "(secret)" -> "(secret)"\n    env.PORT: "8081" -> "8080"');
    assert.equal(diffOne({ DB_PASSWORD: "hunter2" }, { DB_PASSWORD: "hunter2" })[0]?.type, "same");
  });

  it("masks variables listed in spec.secretEnv, and secret variables only on one side", () => {
    const [d] = diffOne({ LICENSE: "abc" }, { LICENSE: "abd", OLD_TOKEN: "t0k" }, { secretEnv: ["LICENSE"] });
    assert.ok(d?.type === "changed");
    assert.deepEqual(d.differences, [
      { path: "/env/LICENSE", desired: SECRET_MARKER, live: SECRET_MARKER },
      { path: "/env/OLD_TOKEN", live: SECRET_MARKER },
    ]);
  });

  it("masks every value of an object annotated ferry.dev/secret, and secret fields inside object-valued differences", () => {
    const [d] = diffOne({ GREETING: "hello" }, { GREETING: "hi" }, { annotations: { "ferry.dev/secret": "true" } });
    assert.ok(d?.type === "changed");
    assert.deepEqual(d.differences, [{ path: "/env/GREETING", desired: SECRET_MARKER, live: SECRET_MARKER }]);
    const nested = maskDifferences([{ path: "/env", desired: { A_TOKEN: "x", PORT: "1" } }], (p) => p === "/env/A_TOKEN");
    assert.deepEqual(nested, [{ path: "/env", desired: { A_TOKEN: SECRET_MARKER, PORT: "1" } }]);
    assert.doesNotMatch(JSON.stringify(toDiffView(d)), /hello|"hi"/);
  });
});
