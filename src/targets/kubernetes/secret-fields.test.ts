import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ResourceKey } from "../../core/ids.js";
import { diffObjects } from "../../diff/diff-objects.js";
import { formatDiffs, toDiffView } from "../../diff/format-diff.js";
import { secretFieldsOf } from "../../diff/secrets.js";
import type { LiveObject } from "../target.js";
import { makeObject } from "../../../test/support/target-testing.js";
import { kubernetesSecretFields } from "./secret-fields.js";

const secret = makeObject({ apiVersion: "v1", kind: "Secret", metadata: { name: "api", namespace: "shop" }, type: "Opaque", data: { token: "aHVudGVyMg==" } });

function diffOf(object: typeof secret, desired: Record<string, unknown>, live: Record<string, unknown>) {
  const fields = secretFieldsOf(object, kubernetesSecretFields(object));
  const lives = new Map<ResourceKey, LiveObject>([[object.key, { key: object.key, state: { kind: object.manifest.kind, ...live } }]]);
  return diffObjects([{ object, state: { kind: object.manifest.kind, ...desired }, ...(fields ? { secret: fields } : {}) }], lives, []).map(toDiffView);
}

describe("kubernetesSecretFields", () => {
  it("masks a Secret's data and stringData, key by key and as a whole, and leaves its other fields readable", () => {
    const diffs = diffOf(
      secret,
      { type: "Opaque", data: { token: "aHVudGVyMw==", added: "bmV3" } },
      { type: "kubernetes.io/basic-auth", data: { token: "aHVudGVyMg==" }, stringData: { password: "hunter2" } },
    );
    assert.deepEqual(diffs[0]?.differences, [
      { path: "/data/added", desired: "(secret)" },
      { path: "/data/token", desired: "(secret)", live: "(secret)" },
      { path: "/stringData", live: "(secret)" },
      { path: "/type", desired: "Opaque", live: "kubernetes.io/basic-auth" },
    ]);
    const text = formatDiffs(diffs);
    for (const value of ["aHVudGVyMw==", "aHVudGVyMg==", "bmV3", "hunter2"]) assert.ok(!text.includes(value), text);
    const whole = diffOf(secret, { data: { token: "aHVudGVyMw==" } }, {});
    assert.deepEqual(whole[0]?.differences, [{ path: "/data", desired: "(secret)" }]);
  });

  it("leaves ConfigMaps and Secret kinds of other API groups alone", () => {
    const config = makeObject({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "web" }, data: { greeting: "hello" } });
    assert.equal(kubernetesSecretFields(config), undefined);
    assert.deepEqual(diffOf(config, { data: { greeting: "hello" } }, { data: { greeting: "hi" } })[0]?.differences, [{ path: "/data/greeting", desired: "hello", live: "hi" }]);
    assert.equal(kubernetesSecretFields(makeObject({ apiVersion: "example.com/v1", kind: "Secret", metadata: { name: "x" } })), undefined);
  });
});
