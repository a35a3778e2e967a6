import { posix } from "node:path";
import type { Application } from "../config/application.js";
import type { RenderedObject } from "../core/objects.js";
import { AGENT_DEPLOYMENT } from "./agent-manifests.js";

/** Name of the root Application: the one that keeps Ferry itself applied from Git. */
export const ROOT_APPLICATION = "ferry";

/** Directory of the repository the root Application's manifests are written to by `--write-root`. */
export const ROOT_SOURCE_DIR = "deploy";

/** File of the root Application inside the Application directory. */
export const ROOT_FILE = "ferry.yaml";

/** The root Application document: Ferry's own manifests in `deploy/`, applied by the agent it installs. */
export function rootApplicationYaml(sourceDir: string = ROOT_SOURCE_DIR): string {
  return `# Ferry itself: the agent, its RBAC and its state volume, applied from Git by the
# agent they run. Written by ferry bootstrap --write-root.
apiVersion: ferry.dev/v1
kind: Application
metadata:
  name: ${ROOT_APPLICATION}
spec:
  source:
    path: ${sourceDir}
  target: kubernetes
  syncPolicy:
    prune: false
`;
}

/** Where `--write-root` puts the root Application: `<path>/ferry.yaml`. */
export function rootApplicationPath(applicationDir: string): string {
  return posix.join(applicationDir.replace(/^\.?\/+|\/+$/g, "") || ".", ROOT_FILE);
}

/** True when the objects contain the Deployment that runs Ferry's agent. */
export function holdsAgent(objects: readonly RenderedObject[]): boolean {
  return objects.some(
    (o) =>
      o.manifest.kind === "Deployment" &&
      o.manifest.metadata.name === AGENT_DEPLOYMENT.name &&
      (o.manifest.metadata.namespace ?? "default") === AGENT_DEPLOYMENT.namespace,
  );
}

/** The Applications that could hold Ferry's own manifests: on the default Kubernetes cluster, from the same repository. */
export function candidateRoots(applications: readonly Application[]): Application[] {
  return applications.filter((a) => a.spec.target === "kubernetes" && a.spec.cluster === undefined && a.spec.source.repoURL === undefined);
}
