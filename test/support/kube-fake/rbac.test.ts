// The fake's RBAC mode: tokens, roles and bindings evaluated as the real
// server does, its 403 and 401 bodies, and the escalation check.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { FakeKube } from "./index.js";
import { startFakeKube } from "./index.js";
import type { Reply } from "./test-http.js";
import { call } from "./test-http.js";
import type { JsonObject } from "./types.js";

const RBAC = "/apis/rbac.authorization.k8s.io/v1";

async function as(fake: FakeKube, token: string | undefined, method: string, path: string, body?: unknown, contentType = "application/json"): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers["authorization"] = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = contentType;
  const response = await fetch(fake.url + path, { method, headers, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) });
  const text = await response.text();
  return { code: response.status, body: text === "" ? {} : (JSON.parse(text) as JsonObject) };
}

const applyAs = (fake: FakeKube, token: string, path: string, doc: JsonObject): Promise<Reply> => as(fake, token, "PATCH", `${path}?fieldManager=test`, JSON.stringify(doc), "application/apply-patch+yaml");

const ADMIN = "fake-token";

describe("fake kube-apiserver in RBAC mode", () => {
  let fake: FakeKube;
  let token: string;
  before(async () => {
    fake = await startFakeKube({ rbac: true, simulateControllers: false });
    assert.equal((await call(fake, "POST", "/api/v1/namespaces", { metadata: { name: "shop" } })).code, 403, "anonymous may not create");
    const admin = (method: string, path: string, body: unknown) => as(fake, ADMIN, method, path, body);
    assert.equal((await admin("POST", "/api/v1/namespaces", { metadata: { name: "shop" } })).code, 201);
    assert.equal((await admin("POST", "/api/v1/namespaces/shop/serviceaccounts", { metadata: { name: "deployer" } })).code, 201);
    // In shop: read and write ConfigMaps, only the one named "settings" by name for patch; Deployments' scale only.
    assert.equal(
      (await admin("POST", `${RBAC}/namespaces/shop/roles`, {
        metadata: { name: "deployer" },
        rules: [
          { apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch", "create"] },
          { apiGroups: [""], resources: ["configmaps"], resourceNames: ["settings"], verbs: ["patch"] },
          { apiGroups: ["apps"], resources: ["deployments/scale"], verbs: ["get"] },
          { apiGroups: [""], resources: ["secrets"], verbs: ["patch"] },
        ],
      })).code,
      201,
    );
    assert.equal((await admin("POST", `${RBAC}/namespaces/shop/rolebindings`, { metadata: { name: "deployer" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "deployer" }, subjects: [{ kind: "ServiceAccount", name: "deployer" }] })).code, 201);
    token = fake.serviceAccountToken("shop", "deployer");
  });
  after(() => fake.close());

  it("allows what a binding grants and refuses the rest with the real 403", async () => {
    assert.equal((await as(fake, token, "GET", "/api/v1/namespaces/shop/configmaps")).code, 200);
    assert.equal((await as(fake, token, "POST", "/api/v1/namespaces/shop/configmaps", { metadata: { name: "settings" }, data: { a: "1" } })).code, 201);
    const denied = await as(fake, token, "GET", "/api/v1/namespaces/default/configmaps");
    assert.equal(denied.code, 403);
    assert.deepEqual(denied.body, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'configmaps is forbidden: User "system:serviceaccount:shop:deployer" cannot list resource "configmaps" in API group "" in the namespace "default"',
      reason: "Forbidden",
      details: { name: "", kind: "configmaps" },
      code: 403,
    });
    const secret = await as(fake, token, "GET", "/api/v1/namespaces/shop/secrets/x");
    assert.equal(secret.body["message"], 'secrets "x" is forbidden: User "system:serviceaccount:shop:deployer" cannot get resource "secrets" in API group "" in the namespace "shop"');
    const cluster = await as(fake, token, "GET", "/apis/apps/v1/deployments");
    assert.equal(cluster.body["message"], 'deployments.apps is forbidden: User "system:serviceaccount:shop:deployer" cannot list resource "deployments" in API group "apps" at the cluster scope');
  });

  it("matches resourceNames and subresources", async () => {
    assert.equal((await as(fake, token, "PATCH", "/api/v1/namespaces/shop/configmaps/settings", { data: { a: "2" } }, "application/merge-patch+json")).code, 200);
    assert.equal((await as(fake, ADMIN, "POST", "/api/v1/namespaces/shop/configmaps", { metadata: { name: "other" } })).code, 201);
    const other = await as(fake, token, "PATCH", "/api/v1/namespaces/shop/configmaps/other", { data: { a: "2" } }, "application/merge-patch+json");
    assert.equal(other.code, 403);
    assert.match(String(other.body["message"]), /configmaps "other" is forbidden: User "system:serviceaccount:shop:deployer" cannot patch resource "configmaps"/);
    // A server-side apply is a patch; one that creates the object needs create (with its name) too.
    const applied = await applyAs(fake, token, "/api/v1/namespaces/shop/configmaps/settings", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings" }, data: { b: "3" } });
    assert.equal(applied.code, 200, JSON.stringify(applied.body));
    const creating = await applyAs(fake, token, "/api/v1/namespaces/shop/secrets/token", { apiVersion: "v1", kind: "Secret", metadata: { name: "token" }, stringData: { a: "b" } });
    assert.equal(creating.code, 403);
    assert.equal(creating.body["message"], 'secrets "token" is forbidden: User "system:serviceaccount:shop:deployer" cannot create resource "secrets" in API group "" in the namespace "shop"');
    const dep = await as(fake, token, "GET", "/apis/apps/v1/namespaces/shop/deployments/web");
    assert.equal(dep.code, 403, "deployments/scale does not grant deployments");
    assert.match(String(dep.body["message"]), /cannot get resource "deployments" in API group "apps"/);
  });

  it("authenticates: an unknown token is a 401, a deleted ServiceAccount's token stops working, discovery is open to the authenticated", async () => {
    const bad = await as(fake, "nope", "GET", "/api/v1/namespaces");
    assert.equal(bad.code, 401);
    assert.deepEqual(bad.body, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "Unauthorized", reason: "Unauthorized", code: 401 });
    assert.equal((await as(fake, token, "GET", "/apis")).code, 200);
    assert.equal((await as(fake, undefined, "GET", "/version")).code, 200);
    const anonymous = await as(fake, undefined, "GET", "/apis");
    assert.equal(anonymous.code, 403);
    assert.equal(anonymous.body["message"], 'forbidden: User "system:anonymous" cannot get path "/apis"');
    await as(fake, ADMIN, "POST", "/api/v1/namespaces/shop/serviceaccounts", { metadata: { name: "gone" } });
    const gone = fake.serviceAccountToken("shop", "gone");
    assert.equal((await as(fake, gone, "GET", "/apis")).code, 200);
    await as(fake, ADMIN, "DELETE", "/api/v1/namespaces/shop/serviceaccounts/gone");
    assert.equal((await as(fake, gone, "GET", "/apis")).code, 401);
  });

  it("refuses a role granting more than its writer holds, unless it may escalate; a binding needs bind or the role's rights", async () => {
    await as(fake, ADMIN, "POST", "/api/v1/namespaces/shop/serviceaccounts", { metadata: { name: "rbac" } });
    const rbacToken = fake.serviceAccountToken("shop", "rbac");
    await as(fake, ADMIN, "POST", `${RBAC}/clusterroles`, {
      metadata: { name: "rbac-writer" },
      rules: [
        { apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles", "rolebindings"], verbs: ["get", "create", "patch"] },
        { apiGroups: [""], resources: ["configmaps"], verbs: ["get"] },
      ],
    });
    await as(fake, ADMIN, "POST", `${RBAC}/namespaces/shop/rolebindings`, { metadata: { name: "rbac-writer" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "rbac-writer" }, subjects: [{ kind: "ServiceAccount", name: "rbac", namespace: "shop" }] });

    const within = await applyAs(fake, rbacToken, `${RBAC}/namespaces/shop/roles/reader`, { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: "reader" }, rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get"] }] });
    assert.equal(within.code, 201, JSON.stringify(within.body));
    const role = { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: "reader" }, rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "delete"] }, { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get"] }] };
    const beyond = await applyAs(fake, rbacToken, `${RBAC}/namespaces/shop/roles/reader`, role);
    assert.equal(beyond.code, 403);
    assert.equal(
      beyond.body["message"],
      'roles.rbac.authorization.k8s.io "reader" is forbidden: user "system:serviceaccount:shop:rbac" (groups=["system:serviceaccounts" "system:serviceaccounts:shop" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n' +
        '{APIGroups:[""], Resources:["configmaps"], Verbs:["list" "delete"]}\n{APIGroups:["apps"], Resources:["deployments"], Verbs:["get"]}',
    );

    const binding = { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name: "admin" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" }, subjects: [{ kind: "ServiceAccount", name: "rbac", namespace: "shop" }] };
    const bind = await applyAs(fake, rbacToken, `${RBAC}/namespaces/shop/rolebindings/admin`, binding);
    assert.equal(bind.code, 403);
    assert.match(String(bind.body["message"]), /^rolebindings\.rbac\.authorization\.k8s\.io "admin" is forbidden: user "system:serviceaccount:shop:rbac" .* is attempting to grant RBAC permissions not currently held:\n\{APIGroups:\["\*"\], Resources:\["\*"\], Verbs:\["\*"\]\}/);

    // escalate on that one role by name, bind on cluster-admin by name (through an aggregated ClusterRole).
    await as(fake, ADMIN, "POST", `${RBAC}/clusterroles`, { metadata: { name: "escalate-reader", labels: { "acme.test/aggregate": "true" } }, rules: [{ apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles"], resourceNames: ["reader"], verbs: ["escalate"] }, { apiGroups: ["rbac.authorization.k8s.io"], resources: ["clusterroles"], resourceNames: ["cluster-admin"], verbs: ["bind"] }] });
    await as(fake, ADMIN, "POST", `${RBAC}/clusterroles`, { metadata: { name: "aggregated" }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { "acme.test/aggregate": "true" } }] } });
    await as(fake, ADMIN, "POST", `${RBAC}/namespaces/shop/rolebindings`, { metadata: { name: "aggregated" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "aggregated" }, subjects: [{ kind: "ServiceAccount", name: "rbac", namespace: "shop" }] });
    assert.equal((await applyAs(fake, rbacToken, `${RBAC}/namespaces/shop/roles/reader`, role)).code, 200);
    const other = await applyAs(fake, rbacToken, `${RBAC}/namespaces/shop/roles/other`, { ...role, metadata: { name: "other" } });
    assert.equal(other.code, 403, "escalate is limited to the role it names");
    assert.equal((await applyAs(fake, rbacToken, `${RBAC}/namespaces/shop/rolebindings/admin`, binding)).code, 201);
  });
});
