import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { JsonValue } from "../../core/json.js";
import { makeObject } from "../../../test/support/target-testing.js";
import { applyError } from "./api-errors.js";

const object = makeObject({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "web", namespace: "shop" } }, "apps/shop/web.yaml");
const CLUSTER = 'context "prod" (server https://10.0.0.1:6443)';

function status(code: number, message: string, causes?: readonly { message: string; field: string }[]): JsonValue {
  return { kind: "Status", apiVersion: "v1", status: "Failure", code, message, ...(causes ? { details: { causes: [...causes] } } : {}) };
}

describe("applyError: what a refusal means for the loop", () => {
  const cases: readonly { name: string; code: number; body: JsonValue; disposition: "stalled" | "transient"; reason: string; match: RegExp }[] = [
    {
      name: "a field another applier owns: retried, naming the manager",
      code: 409,
      body: status(409, "Apply failed with 1 conflict", [{ message: 'conflict with "other-applier" using v1: .data.greeting', field: ".data.greeting" }]),
      disposition: "transient",
      reason: "ApplyConflict",
      match: /\.data\.greeting \(owned by other-applier\)/,
    },
    { name: "an object the schema refuses: the revision must change", code: 422, body: status(422, 'ConfigMap "web" is invalid: data: Invalid value'), disposition: "stalled", reason: "ApplyRejected", match: /is invalid/ },
    { name: "an immutable field", code: 422, body: status(422, "field is immutable"), disposition: "stalled", reason: "ImmutableField", match: /ferry\.dev\/recreate/ },
    { name: "a malformed request", code: 400, body: status(400, "json: cannot unmarshal string"), disposition: "stalled", reason: "ApplyRejected", match: /cannot unmarshal/ },
    {
      name: "an admission webhook's denial: its policy may change",
      code: 400,
      body: status(400, 'admission webhook "policy.example.com" denied the request: no latest tags'),
      disposition: "transient",
      reason: "AdmissionDenied",
      match: /denied by admission control on context "prod" \(server https:\/\/10\.0\.0\.1:6443\)/,
    },
    { name: "missing rights: RBAC may be granted", code: 403, body: status(403, 'configmaps is forbidden: User "ferry" cannot patch'), disposition: "transient", reason: "Forbidden", match: /context "prod" \(server https:\/\/10\.0\.0\.1:6443\) refused \(403\): configmaps is forbidden/ },
    { name: "refused credentials: they may be rotated", code: 401, body: status(401, "Unauthorized"), disposition: "transient", reason: "Unauthorized", match: /refused the credentials \(401\)/ },
    { name: "a namespace that does not exist yet", code: 404, body: status(404, 'namespaces "shop" not found'), disposition: "transient", reason: "NotFound", match: /does its namespace exist/ },
    { name: "throttling", code: 429, body: status(429, "too many requests"), disposition: "transient", reason: "ApiServerError", match: /answered 429/ },
    { name: "a server error", code: 503, body: status(503, "etcdserver: request timed out"), disposition: "transient", reason: "ApiServerError", match: /answered 503/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const error = applyError(object, c.code, c.body, "applying", CLUSTER);
      assert.equal(error.disposition, c.disposition, error.message);
      assert.equal(error.reason, c.reason);
      assert.match(error.message, /^applying ConfigMap\/shop\/web \(apps\/shop\/web\.yaml:1\)/);
      assert.match(error.message, c.match);
    });
  }
});
