import { randomBytes } from "node:crypto";
import { delimiter } from "node:path";
import type { JsonObject } from "../../src/core/json.js";
import { KubeClient } from "../../src/targets/kubernetes/kube-client.js";

/** A client of the cluster a kubeconfig's context names (default: its current context); `kubeconfig` may list several files, as $KUBECONFIG does. */
export function clientFor(kubeconfig: string, context?: string): KubeClient {
  const files = kubeconfig.split(delimiter).filter((f) => f !== "");
  return new KubeClient({ files, ...(context !== undefined ? { context } : {}) });
}

/** A fresh namespace for one test, created on the cluster; its removal is returned. */
export async function scratchNamespace(client: KubeClient): Promise<{ name: string; remove: () => Promise<void> }> {
  const name = `ferry-test-${randomBytes(4).toString("hex")}`;
  const res = await client.request({ method: "POST", path: "/api/v1/namespaces", body: { apiVersion: "v1", kind: "Namespace", metadata: { name } } });
  if (res.status >= 300) throw new Error(`cannot create namespace ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  return {
    name,
    remove: async () => {
      await client.request({ method: "DELETE", path: `/api/v1/namespaces/${name}` });
    },
  };
}

/** Changes an object as a person would with `kubectl edit`: a merge patch by another field manager. */
export async function editByHand(client: KubeClient, path: string, patch: JsonObject, manager = "kubectl-edit"): Promise<void> {
  const res = await client.request({ method: "PATCH", path, query: { fieldManager: manager }, body: patch, contentType: "application/merge-patch+json" });
  if (res.status >= 300) throw new Error(`hand edit of ${path} failed: ${res.status} ${JSON.stringify(res.body)}`);
}

/** The object at a path, or undefined. */
export async function getObject(client: KubeClient, path: string): Promise<JsonObject | undefined> {
  const res = await client.request({ method: "GET", path });
  return res.status === 200 && typeof res.body === "object" && res.body !== null && !Array.isArray(res.body) ? (res.body as JsonObject) : undefined;
}
