import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadApplications } from "../config/load-config.js";
import { stalled, toFerryError } from "../core/errors.js";
import { displayKey, resourceKey } from "../core/ids.js";
import { isJsonObject } from "../core/json.js";
import type { RenderedObject } from "../core/objects.js";
import { renderSource } from "../render/render-source.js";
import type { CommitIdentity } from "../source/git-writer.js";
import { commitEdits, NothingToCommitError } from "../source/git-writer.js";
import { runGit } from "../source/git.js";
import { normalizeRepositoryUrl, redactSecrets } from "../source/repository-url.js";
import { loadClusters } from "../targets/kubernetes/clusters.js";
import { DEFAULT_KUBE_TIMEOUTS, KubeClient, statusMessage } from "../targets/kubernetes/kube-client.js";
import type { KubernetesTarget } from "../targets/kubernetes/kubernetes-target.js";
import { createKubernetesTarget } from "../targets/kubernetes/kubernetes-target.js";
import type { ApplyOutcome, ObjectContext } from "../targets/target.js";
import type { AgentSettings, ManifestText } from "./agent-manifests.js";
import { AGENT_DEPLOYMENT, withAgentSettings } from "./agent-manifests.js";
import { candidateRoots, holdsAgent, ROOT_APPLICATION, ROOT_SOURCE_DIR, rootApplicationPath, rootApplicationYaml } from "./root-application.js";

/** The install manifests shipped with Ferry (`deploy/kubernetes` of the package), seen from dist/src/bootstrap/. */
export const SHIPPED_MANIFESTS = fileURLToPath(new URL("../../../deploy/kubernetes/", import.meta.url));

const KUSTOMIZATION = /^(kustomization\.ya?ml|Kustomization)$/;

/** What `ferry bootstrap` is asked to do. */
export interface BootstrapOptions extends AgentSettings {
  readonly kubeconfig?: string;
  readonly context?: string;
  /** Commit the root Application and Ferry's manifests to the repository when it has none. */
  readonly writeRoot: boolean;
  /** How long to wait for the Namespace and the Deployment. */
  readonly timeoutMs: number;
  /** Who `--write-root` commits as. */
  readonly author: CommitIdentity;
  /** Progress lines for people. */
  readonly log: (line: string) => void;
  /** The directory of install manifests; default the shipped ones. */
  readonly manifestsDir?: string;
  /** How often health is read while waiting (default 1 s). */
  readonly pollMs?: number;
}

/** What `ferry bootstrap` did. */
export interface BootstrapResult {
  /** Objects by outcome of their apply. */
  readonly applied: Readonly<Record<ApplyOutcome, number>>;
  /** The Namespace is Active and the Deployment Healthy. */
  readonly healthy: boolean;
  /** The root Application: found in Git, written now, or missing (with what to add printed). */
  readonly root: "present" | "written" | "missing";
  /** The commit `--write-root` pushed. */
  readonly commit?: string;
}

/**
 * Installs Ferry in a cluster: renders the install manifests with the
 * agent's repository, ref, path and image, applies them with the Kubernetes
 * target (server-side apply as application `ferry`, so the root Application
 * takes them over without a conflict), waits until the Namespace is Active
 * and the Deployment Healthy, and checks that the repository holds an
 * Application that manages Ferry's own manifests (writing one with
 * `writeRoot`). Nothing unchanged is written: a second run writes nothing.
 */
export async function bootstrap(options: BootstrapOptions): Promise<BootstrapResult> {
  const client = openClient(options);
  const files = withAgentSettings(await readManifestFiles(options.manifestsDir ?? SHIPPED_MANIFESTS), options);
  const objects = await renderManifests(files);
  const target = createKubernetesTarget({ client });
  const scratch = await mkdtemp(join(tmpdir(), "ferry-bootstrap-"));
  try {
    await checkReachable(client, options);
    const root = await findRoot(options, scratch);
    const applied = await applyAll(target, objects, options.log);
    const healthy = await waitHealthy(target, client, options);
    if (root) {
      options.log(`root Application ${root} in ${options.path}/ already manages Ferry: nothing to commit`);
      return { applied, healthy, root: "present" };
    }
    if (!options.writeRoot) {
      options.log(missingRootAdvice(options));
      return { applied, healthy, root: "missing" };
    }
    const commit = await writeRoot(options, files, scratch);
    return { applied, healthy, root: commit ? "written" : "present", ...(commit ? { commit } : {}) };
  } finally {
    await target.close();
    await rm(scratch, { recursive: true, force: true });
  }
}

async function readManifestFiles(dir: string): Promise<ManifestText[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /\.ya?ml$|^Kustomization$/.test(n)).sort();
  } catch (error) {
    throw stalled("ManifestsMissing", `cannot read Ferry's install manifests in ${dir}: ${(error as Error).message}`);
  }
  return Promise.all(names.map(async (name) => ({ name, content: await readFile(join(dir, name), "utf8") })));
}

/** Renders the manifests (a kustomization) as the agent renders a source directory. */
async function renderManifests(files: readonly ManifestText[]): Promise<RenderedObject[]> {
  const dir = await mkdtemp(join(tmpdir(), "ferry-bootstrap-render-"));
  try {
    for (const file of files) await writeFile(join(dir, file.name), file.content);
    const result = await renderSource(dir, ".");
    if (result.problems.length > 0) {
      throw stalled("InvalidManifests", `Ferry's install manifests do not render: ${result.problems.map((p) => p.message).join("; ")}`);
    }
    return [...result.objects];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function openClient(options: BootstrapOptions): KubeClient {
  const clusters = loadClusters({ ...(options.kubeconfig !== undefined ? { kubeconfig: options.kubeconfig } : {}), ...(options.context !== undefined ? { context: options.context } : {}) });
  const cluster = clusters.find((c) => c.targetName === "kubernetes");
  if (!cluster) throw stalled("NoCluster", "no cluster to install into: pass --kubeconfig (and --context), set $KUBECONFIG, or create ~/.kube/config with a current context");
  // No request may outlast --timeout: a server that accepts and never answers fails bootstrap in time, naming itself.
  const requestTimeoutMs = Math.min(DEFAULT_KUBE_TIMEOUTS.requestTimeoutMs, options.timeoutMs);
  return new KubeClient(cluster.source, { requestTimeoutMs, connectTimeoutMs: Math.min(DEFAULT_KUBE_TIMEOUTS.connectTimeoutMs, requestTimeoutMs) });
}

function clusterName(options: BootstrapOptions): string {
  return options.context !== undefined ? `context ${options.context}` : "the kubeconfig's current context";
}

/** One request before anything is applied: an unreachable or refusing server is named at once. */
async function checkReachable(client: KubeClient, options: BootstrapOptions): Promise<void> {
  let res;
  try {
    res = await client.request({ method: "GET", path: "/api/v1/namespaces", query: { limit: "1" } });
  } catch (error) {
    throw stalled("ClusterUnreachable", `cannot reach the Kubernetes API server: ${toFerryError(error).message}`, { cause: error });
  }
  if (res.status === 401) throw stalled("Unauthorized", `the API server of ${clusterName(options)} refused the kubeconfig's credentials (401): ${statusMessage(res.body)}`);
  if (res.status === 403) throw stalled("Forbidden", `the API server of ${clusterName(options)} refused to list namespaces (403): ${statusMessage(res.body)}; bootstrap needs rights to create namespaces, ClusterRoles and bindings (cluster-admin)`);
  if (res.status >= 300) throw stalled("ApiServerError", `the API server of ${clusterName(options)} answered ${res.status}: ${statusMessage(res.body)}`);
}

/** The name of an Application in `--path` of the repository whose source holds Ferry's agent; undefined when there is none. */
async function findRoot(options: BootstrapOptions, scratch: string): Promise<string | undefined> {
  const checkout = join(scratch, "checkout");
  const url = normalizeRepositoryUrl(options.repo);
  try {
    await runGit(["clone", "--quiet", "--depth", "1", "--branch", options.ref.replace(/^refs\/(heads|tags)\//, ""), "--", url, checkout]);
  } catch (error) {
    throw stalled("RepositoryUnreadable", `--repo ${redactSecrets(options.repo)} --ref ${options.ref}: cannot clone: ${toFerryError(error).message}`, { cause: error });
  }
  let configObjects: readonly RenderedObject[];
  try {
    configObjects = (await renderSource(checkout, options.path)).objects;
  } catch {
    return undefined;
  }
  for (const app of candidateRoots(loadApplications(configObjects).applications)) {
    try {
      if (holdsAgent((await renderSource(checkout, app.spec.source.path)).objects)) return app.name;
    } catch {
      // A source that does not render cannot be the one that manages Ferry.
    }
  }
  return undefined;
}

/** Applies Namespaces first, then the rest, in the manifests' order; prints one line per object. */
async function applyAll(target: KubernetesTarget, objects: readonly RenderedObject[], log: (line: string) => void): Promise<Record<ApplyOutcome, number>> {
  const counts: Record<ApplyOutcome, number> = { created: 0, configured: 0, unchanged: 0, adopted: 0 };
  // Installing is asking for Ferry's objects: one made by hand before (its Namespace, say) is adopted.
  const context: ObjectContext = { application: ROOT_APPLICATION, artifactDirectory: SHIPPED_MANIFESTS, settings: { adopt: true } };
  const prepared = target.prepare ? target.prepare(objects, {}) : objects;
  const ordered = [...prepared.filter((o) => o.manifest.kind === "Namespace"), ...prepared.filter((o) => o.manifest.kind !== "Namespace")];
  for (const object of ordered) {
    let outcome: ApplyOutcome;
    try {
      outcome = await target.apply(object, context);
    } catch (error) {
      const failure = toFerryError(error);
      const forbidden = /\(403\)/.test(failure.message) ? "; the kubeconfig's user lacks the rights bootstrap needs (cluster-admin: it creates a Namespace, a ClusterRole and its binding)" : "";
      throw stalled(failure.reason, `${failure.message}${forbidden}`, { cause: error });
    }
    counts[outcome] += 1;
    log(`${displayKey(object.key)}: ${outcome}`);
  }
  return counts;
}

/** Waits until the Namespace is Active and the Deployment Healthy, printing each change of what it waits for. */
async function waitHealthy(target: KubernetesTarget, client: KubeClient, options: BootstrapOptions): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs;
  const key = resourceKey("apps/v1", "Deployment", AGENT_DEPLOYMENT.name, AGENT_DEPLOYMENT.namespace);
  let last = "";
  for (;;) {
    const ns = await client.request({ method: "GET", path: `/api/v1/namespaces/${AGENT_DEPLOYMENT.namespace}` });
    const status = isJsonObject(ns.body) && isJsonObject(ns.body.status) ? ns.body.status : undefined;
    const phase = ns.status === 200 && typeof status?.phase === "string" ? status.phase : undefined;
    const health = (await target.health([key])).get(key);
    const line = `waiting: Namespace ${AGENT_DEPLOYMENT.namespace} ${phase ?? "absent"}, Deployment ${AGENT_DEPLOYMENT.namespace}/${AGENT_DEPLOYMENT.name} ${health?.status ?? "Unknown"}${health?.message ? ` (${health.message})` : ""}`;
    if (phase === "Active" && health?.status === "Healthy") {
      options.log(`ready: Namespace ${AGENT_DEPLOYMENT.namespace} Active, Deployment ${AGENT_DEPLOYMENT.namespace}/${AGENT_DEPLOYMENT.name} Healthy`);
      return true;
    }
    if (line !== last) options.log(line);
    last = line;
    if (Date.now() >= deadline) {
      options.log(`gave up after ${Math.round(options.timeoutMs / 1000)}s: ${line.replace(/^waiting: /, "")}`);
      return false;
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1000));
  }
}

/** What to add to the repository so Ferry manages itself from Git. */
function missingRootAdvice(options: BootstrapOptions): string {
  return [
    `${options.path}/ of ${redactSecrets(options.repo)} (${options.ref}) has no Application that manages Ferry itself.`,
    `So that the cluster manages Ferry from Git, copy Ferry's manifests (the YAML files of deploy/kubernetes in the package but kustomization.yaml, with the agent's --repo, --ref and --path set as applied now) to ${ROOT_SOURCE_DIR}/ and add ${rootApplicationPath(options.path)}:`,
    "",
    rootApplicationYaml().trimEnd(),
    "",
    "or run ferry bootstrap again with --write-root to commit and push both.",
  ].join("\n");
}

/** Commits `deploy/` and the root Application, and pushes; undefined when Git already holds exactly that. */
async function writeRoot(options: BootstrapOptions, files: readonly ManifestText[], scratch: string): Promise<string | undefined> {
  const rootFile = rootApplicationPath(options.path);
  try {
    const result = await commitEdits({
      url: options.repo,
      ref: options.ref,
      message: `Let Ferry manage itself from ${ROOT_SOURCE_DIR}/\n\nThe root Application ${rootFile} applies Ferry's own manifests in ${ROOT_SOURCE_DIR}/ to the cluster it runs in.`,
      author: options.author,
      workDir: join(scratch, "write"),
      edit: async (dir) => {
        const written: string[] = [];
        // Plain manifests, without the kustomization: the agent's image needs no kustomize to apply them.
        for (const file of files.filter((f) => !KUSTOMIZATION.test(f.name))) {
          await writeText(join(dir, ROOT_SOURCE_DIR, file.name), file.content);
          written.push(`${ROOT_SOURCE_DIR}/${file.name}`);
        }
        await writeText(join(dir, rootFile), rootApplicationYaml());
        written.push(rootFile);
        return written;
      },
    });
    options.log(`committed ${result.commit.slice(0, 12)} to ${options.ref} of ${redactSecrets(options.repo)}: ${result.changedFiles.join(", ")}`);
    return result.commit;
  } catch (error) {
    if (error instanceof NothingToCommitError) return undefined;
    throw error;
  }
}

async function writeText(file: string, content: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, content);
}
