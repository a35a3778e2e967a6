// Plain HTTP requests against the fake for its tests, without a Kubernetes client.
import type { FakeKube } from "./index.js";
import type { JsonObject } from "./types.js";

/** A response: status code and parsed JSON body. */
export interface Reply {
  readonly code: number;
  readonly body: JsonObject;
}

/** Sends one request; `body` is sent as is when a string, as JSON otherwise. */
export async function call(fake: FakeKube, method: string, path: string, body?: unknown, contentType = "application/json"): Promise<Reply> {
  const response = await fetch(fake.url + path, {
    method,
    headers: body === undefined ? {} : { "content-type": contentType },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { code: response.status, body: text === "" ? {} : (JSON.parse(text) as JsonObject) };
}

/** Server-side apply of a YAML or JSON document as `manager`. */
export function apply(fake: FakeKube, path: string, doc: string | JsonObject, manager: string, query = ""): Promise<Reply> {
  return call(fake, "PATCH", `${path}?fieldManager=${manager}${query}`, typeof doc === "string" ? doc : JSON.stringify(doc), "application/apply-patch+yaml");
}

/** A Deployment named `name` with one container. */
export function deployment(name: string, image = "nginx:1.27", replicas?: number): JsonObject {
  const spec: JsonObject = {
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "web", image }] } },
  };
  if (replicas !== undefined) spec["replicas"] = replicas;
  return { apiVersion: "apps/v1", kind: "Deployment", metadata: { name }, spec };
}

/** The path of one object or a collection in the default namespace. */
export const paths = {
  deployments: "/apis/apps/v1/namespaces/default/deployments",
  configmaps: "/api/v1/namespaces/default/configmaps",
  services: "/api/v1/namespaces/default/services",
  jobs: "/apis/batch/v1/namespaces/default/jobs",
};
