// A kubeconfig file with one context, "fake", pointing at the fake server, so
// kubectl and client-node reach it the way they reach a real cluster.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";

/** Writes `<dir>/kubeconfig` for `url` (presenting `token`) and returns its path. */
export async function writeKubeconfig(dir: string, url: string, token = "fake-token"): Promise<string> {
  const path = join(dir, "kubeconfig");
  const config = {
    apiVersion: "v1",
    kind: "Config",
    // client-node refuses plain http unless TLS verification is off; kubectl ignores the flag for http.
    clusters: [{ name: "fake", cluster: { server: url, "insecure-skip-tls-verify": true } }],
    users: [{ name: "fake", user: { token } }],
    contexts: [{ name: "fake", context: { cluster: "fake", user: "fake", namespace: "default" } }],
    "current-context": "fake",
    preferences: {},
  };
  await writeFile(path, stringify(config), { mode: 0o600 });
  return path;
}
