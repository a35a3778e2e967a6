// deploy/kubernetes/ and the Dockerfile install Ferry in a cluster: the
// manifests must parse, pass the Kubernetes schemas, fit together, and run
// `ferry agent` with options it has.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { formatProblem } from "../../src/core/errors.js";
import type { JsonObject } from "../../src/core/json.js";
import type { RenderedObject } from "../../src/core/objects.js";
import { loadManifestFiles } from "../../src/render/load-files.js";
import { renderPlain } from "../../src/render/render-plain.js";
import { RenderCache, renderSource } from "../../src/render/render-source.js";
import { findExecutable } from "../../src/render/tools/find-tool.js";
import { validateKubernetesObject } from "../../src/targets/kubernetes/kube-validate.js";
import type { PolicyRule } from "../support/kube-fake/rbac.js";
import { ruleAllows } from "../support/kube-fake/rbac.js";

// Tests run from dist/test/deploy/; the manifests stay in the repository.
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const DIR = "deploy/kubernetes";

async function manifests(): Promise<RenderedObject[]> {
  const files = (await loadManifestFiles(ROOT, DIR)).filter((f) => !f.path.endsWith("/kustomization.yaml"));
  const result = renderPlain(files);
  assert.deepStrictEqual(result.problems.map(formatProblem), []);
  return result.objects;
}

function find(objects: readonly RenderedObject[], kind: string, name: string): JsonObject {
  const found = objects.find((o) => o.manifest.kind === kind && o.manifest.metadata.name === name);
  assert.ok(found, `${kind}/${name} is in ${DIR}`);
  return found.manifest;
}

describe("deploy/kubernetes", () => {
  it("parses and passes the Kubernetes schemas", async () => {
    const objects = await manifests();
    assert.deepStrictEqual(
      objects.map((o) => `${o.manifest.kind}/${o.manifest.metadata.name}`).sort(),
      ["ClusterRole/ferry-agent", "ClusterRoleBinding/ferry-agent", "Deployment/ferry", "Namespace/ferry-system", "PersistentVolumeClaim/ferry-state", "Service/ferry", "ServiceAccount/ferry"],
    );
    assert.deepStrictEqual(objects.flatMap((o) => validateKubernetesObject(o)).map(formatProblem), []);
  });

  it("lists every manifest in its kustomization", async () => {
    const kustomization = parse(await readFile(`${ROOT}${DIR}/kustomization.yaml`, "utf8")) as { resources: string[] };
    const files = (await loadManifestFiles(ROOT, DIR)).map((f) => f.path.slice(DIR.length + 1)).filter((f) => f !== "kustomization.yaml");
    assert.deepStrictEqual([...kustomization.resources].sort(), files.sort());
  });

  it("fits together: the binding names the service account the pod runs as, the pod mounts the claim", async () => {
    const objects = await manifests();
    const deployment = find(objects, "Deployment", "ferry") as { spec: { template: { spec: { serviceAccountName: string; volumes: { persistentVolumeClaim?: { claimName: string } }[] } } } };
    const pod = deployment.spec.template.spec;
    find(objects, "ServiceAccount", pod.serviceAccountName);
    const binding = find(objects, "ClusterRoleBinding", "ferry-agent") as { subjects: { name: string; namespace: string }[]; roleRef: { name: string } };
    assert.deepStrictEqual(binding.subjects.map((s) => `${s.namespace}/${s.name}`), [`ferry-system/${pod.serviceAccountName}`]);
    find(objects, "ClusterRole", binding.roleRef.name);
    const claims = pod.volumes.flatMap((v) => (v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : []));
    assert.deepStrictEqual(claims, ["ferry-state"]);
    find(objects, "PersistentVolumeClaim", "ferry-state");
  });

  it("grants what the agent uses on the kinds it manages, writes of RBAC only to its own role and binding by name, and nothing it never uses", async () => {
    const objects = await manifests();
    const rules = (find(objects, "ClusterRole", "ferry-agent") as unknown as { rules: PolicyRule[] }).rules;
    const allowed = (verb: string, apiGroup: string, resource: string, name = ""): boolean =>
      rules.some((rule) => ruleAllows(rule, { verb, resourceRequest: true, path: "", apiGroup, resource, subresource: "", namespace: "", name }));
    for (const rule of rules) {
      assert.ok(![...(rule.apiGroups ?? []), ...(rule.resources ?? []), ...rule.verbs, ...(rule.nonResourceURLs ?? [])].includes("*"), `no wildcard: ${JSON.stringify(rule)}`);
      // Ferry applies with server-side apply (PATCH) and deletes one object at a time: no PUT, no deletecollection.
      assert.deepStrictEqual(rule.verbs.filter((v) => ["update", "deletecollection", "impersonate"].includes(v)), [], JSON.stringify(rule));
      if (rule.verbs.some((v) => ["escalate", "bind"].includes(v))) assert.deepStrictEqual(rule.resourceNames, ["ferry-agent"], "escalate and bind only on its own role");
    }
    // Every object of the install is one the agent can apply (patch, and create by name), read, watch and prune: it manages itself.
    for (const object of objects) {
      const group = object.manifest.apiVersion.includes("/") ? object.manifest.apiVersion.split("/")[0] ?? "" : "";
      const plural = `${object.manifest.kind.toLowerCase()}s`;
      for (const verb of ["get", "create", "patch", "delete"]) assert.ok(allowed(verb, group, plural, object.manifest.metadata.name), `${verb} ${plural} ${object.manifest.metadata.name}`);
      for (const verb of ["list", "watch"]) assert.ok(allowed(verb, group, plural), `${verb} ${plural}`);
    }
    // RBAC: only its own objects are written; no Role or binding of anyone else, and nothing namespaced.
    const rbac = "rbac.authorization.k8s.io";
    for (const verb of ["create", "patch", "delete", "escalate", "bind"]) {
      assert.ok(!allowed(verb, rbac, "clusterroles", "cluster-admin"), `no ${verb} on another ClusterRole`);
      assert.ok(!allowed(verb, rbac, "clusterrolebindings", "cluster-admin"), `no ${verb} on another ClusterRoleBinding`);
      assert.ok(!allowed(verb, rbac, "roles", "ferry-agent") && !allowed(verb, rbac, "rolebindings", "ferry-agent"), `no ${verb} on Roles or RoleBindings`);
    }
    assert.ok(allowed("escalate", rbac, "clusterroles", "ferry-agent") && allowed("bind", rbac, "clusterroles", "ferry-agent"), "a commit may widen and re-bind its own role");
    // Health is read from the objects' status: no Pods, ReplicaSets or Events.
    for (const [group, resource] of [["", "pods"], ["apps", "replicasets"], ["", "events"], ["", "nodes"]] as const) assert.ok(!allowed("get", group, resource, "x") && !allowed("list", group, resource), `nothing on ${resource}`);
    // Discovery only among non-resource URLs.
    const paths = rules.flatMap((r) => r.nonResourceURLs ?? []);
    assert.deepStrictEqual(paths.sort(), ["/api", "/api/*", "/apis", "/apis/*"]);
  });

  it("runs ferry agent with options it has", async () => {
    const deployment = find(await manifests(), "Deployment", "ferry") as { spec: { template: { spec: { containers: { args: string[] }[] } } } };
    const [command, ...args] = deployment.spec.template.spec.containers[0]?.args ?? [];
    assert.equal(command, "agent");
    // The options `ferry agent --help` lists, from the built command itself.
    const help = execFileSync(process.execPath, [`${ROOT}dist/src/cli/main.js`, "agent", "--help"], { encoding: "utf8" });
    const known = new Set([...help.matchAll(/^\s+(?:-\w, )?(--[a-z-]+)/gm)].map((m) => m[1]));
    assert.ok(known.has("--repo"), `ferry agent --help lists its options:\n${help}`);
    for (const arg of args) assert.ok(known.has(arg.replace(/=.*$/, "")), `ferry agent has the option ${arg}`);
    assert.ok(args.some((a) => a.startsWith("--repo=")), "the required --repo is given");
    assert.ok(args.includes("--listen=0.0.0.0:8080"), "the probes reach the control API on the pod's address");
  });

  it("renders the same objects through kustomize", async (t) => {
    if (!(await findExecutable(["kustomize"])) && !(await findExecutable(["kubectl"]))) return t.skip("neither kustomize nor kubectl is installed");
    const rendered = await renderSource(ROOT, DIR, { cache: new RenderCache() });
    assert.deepStrictEqual(rendered.problems, []);
    assert.deepStrictEqual(rendered.objects.map((o) => o.manifest), (await manifests()).map((o) => o.manifest));
  });
});

describe("Dockerfile", () => {
  it("builds on node:20-slim with git, installs production dependencies only and runs as a non-root user", async () => {
    const text = await readFile(`${ROOT}Dockerfile`, "utf8");
    const instructions = text.split("\n").filter((l) => /^[A-Z]+ /.test(l));
    assert.deepStrictEqual(instructions.filter((l) => l.startsWith("FROM ")).map((l) => l.split(" ")[1]), ["node:20-slim", "node:20-slim", "node:20-slim"]);
    assert.match(text, /apt-get install[^\n]*\bgit\b/);
    assert.match(text, /npm ci --omit=dev/);
    assert.match(text, /RUN npm run build/);
    const user = instructions.filter((l) => l.startsWith("USER ")).at(-1);
    assert.ok(user && !/^USER (root|0)(:|$)/.test(user), `the image runs as a non-root user (${user ?? "no USER"})`);
    const entry = /^ENTRYPOINT \["node", "\/app\/(.+)"\]$/m.exec(text)?.[1];
    assert.equal(entry, "dist/src/cli/main.js");
    const pkg = JSON.parse(await readFile(`${ROOT}package.json`, "utf8")) as { bin: { ferry: string } };
    assert.equal(pkg.bin.ferry, entry, "the entry point is the ferry command");
  });
});
