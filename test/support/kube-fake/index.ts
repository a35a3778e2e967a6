// A fake Kubernetes API server for tests: real HTTP on 127.0.0.1, discovery,
// get/list/watch, create/update/patch/delete, server-side apply with managed
// fields and conflicts, dry runs, the real server's errors, and (optionally)
// controllers that report workloads rolled out at once. README.md in this
// folder says what is faithful and what is not.
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeCluster } from "./cluster.js";
import type { Stats } from "./http-server.js";
import { FakeHttpServer } from "./http-server.js";
import { writeKubeconfig } from "./kubeconfig.js";
import type { UserInfo } from "./rbac.js";
import { ADMIN, bootstrapPolicy, RBAC_GROUP, RbacAuthorizer, serviceAccountUser } from "./rbac.js";
import { resourceKey } from "./store.js";
import type { JsonObject } from "./types.js";
import { apiVersionOf, clone, splitApiVersion } from "./types.js";

export type { Json, JsonObject } from "./types.js";
export type { Stats } from "./http-server.js";

/** Options of the fake server. */
export interface FakeKubeOptions {
  /** Default true: workloads report rolled out, Jobs complete, CRDs Established, PVCs Bound, as a cluster with instant controllers would. */
  simulateControllers?: boolean;
  /** How many changes a watch can replay from an older resourceVersion (default 10,000); older ones get 410 Gone. */
  watchHistory?: number;
  /** How often a watch with allowWatchBookmarks=true gets a BOOKMARK (default 10 s). */
  bookmarkIntervalMs?: number;
  /**
   * Default false: every request is allowed and the token ignored. True: the
   * RBAC mode. Requests are authenticated by bearer token (the kubeconfig's
   * own token is a cluster administrator in system:masters; `serviceAccountToken`
   * gives others) and authorized by the Roles, ClusterRoles and bindings stored,
   * with the real bootstrap roles (cluster-admin, system:discovery,
   * system:public-info-viewer) to start from.
   */
  rbac?: boolean;
}

/** A running fake API server. */
export interface FakeKube {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** A kubeconfig file (context "fake") pointing at url, in a temporary directory removed by close(). */
  readonly kubeconfigPath: string;
  /** Requests served (calls, by verb) and writes stored by them (no-ops and dry runs are not writes; controllers' writes are not counted). */
  readonly stats: Stats;
  /** Mutates an object behind the clients' back (as `kubectl edit` by another manager would), emitting a watch event. Status may be changed too. */
  edit(apiVersion: string, kind: string, namespace: string | undefined, name: string, change: (obj: JsonObject) => void, manager?: string): void;
  /** A copy of a stored object as served at `apiVersion`, or undefined. */
  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): JsonObject | undefined;
  /**
   * RBAC mode: a bearer token for a ServiceAccount (as the TokenRequest API
   * gives one), authenticating as `system:serviceaccount:<namespace>:<name>`
   * in the groups system:serviceaccounts, system:serviceaccounts:<namespace>
   * and system:authenticated while the ServiceAccount exists (401 otherwise).
   */
  serviceAccountToken(namespace: string, name: string): string;
  /** A kubeconfig (context "fake") that presents `token`, in a temporary directory removed by close(). */
  kubeconfigFor(token: string): Promise<string>;
  /** Resolves once the simulated controllers have reacted to every write so far. */
  settled(): Promise<void>;
  /** Ends open watches, stops the server and removes the kubeconfig. */
  close(): Promise<void>;
}

/** Starts a fake API server on a free loopback port. */
export async function startFakeKube(options: FakeKubeOptions = {}): Promise<FakeKube> {
  const cluster = new FakeCluster({ simulateControllers: options.simulateControllers ?? true, watchHistory: options.watchHistory ?? 10_000 });
  let address = "";
  const tokens = new Map<string, UserInfo & { readonly serviceAccount?: { readonly namespace: string; readonly name: string } }>([["fake-token", ADMIN]]);
  const userOf = (token: string): UserInfo | undefined => {
    const user = tokens.get(token);
    const sa = user?.serviceAccount;
    // A ServiceAccount's token stops working when the ServiceAccount is deleted.
    if (sa && !cluster.store.get(resourceKey("", "serviceaccounts"), sa.namespace, sa.name)) return undefined;
    return user;
  };
  const authentication = options.rbac ? { userOf, authorizer: new RbacAuthorizer(cluster.store) } : undefined;
  const http = new FakeHttpServer(cluster, () => address, options.bookmarkIntervalMs ?? 10_000, authentication);
  const server = createServer(http.handle);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const url = `http://${address}`;
  const dir = await mkdtemp(join(tmpdir(), "ferry-kube-fake-"));
  const kubeconfigPath = await writeKubeconfig(dir, url);
  seedNamespaces(cluster);
  if (options.rbac) seedPolicy(cluster);
  let kubeconfigs = 0;

  const typeOf = (apiVersion: string, kind: string) => {
    const type = cluster.registry.byKind(apiVersion, kind);
    if (!type) throw new Error(`the fake API server does not serve ${kind} in ${apiVersion}`);
    return type;
  };

  return {
    url,
    kubeconfigPath,
    stats: http.stats,
    edit(apiVersion, kind, namespace, name, change, manager = "kubectl-edit") {
      const type = typeOf(apiVersion, kind);
      const key = resourceKey(type.group, type.plural);
      const before = cluster.store.get(key, namespace, name);
      if (!before) throw new Error(`${kind} ${namespace ? `${namespace}/` : ""}${name} does not exist`);
      const version = splitApiVersion(apiVersion).version;
      const after = cluster.api.served(type, version, before);
      change(after);
      after["apiVersion"] = apiVersionOf(type.group, type.versions[0] ?? version);
      const main = cluster.writeAs(type, before, after, manager, undefined);
      if (type.hasStatus) cluster.writeAs(type, main, after, manager, "status");
    },
    get(apiVersion, kind, namespace, name) {
      const type = typeOf(apiVersion, kind);
      const obj = cluster.store.get(resourceKey(type.group, type.plural), namespace, name);
      return obj ? cluster.api.served(type, splitApiVersion(apiVersion).version, clone(obj)) : undefined;
    },
    serviceAccountToken(namespace, name) {
      const token = `sa-${randomBytes(12).toString("hex")}`;
      tokens.set(token, { ...serviceAccountUser(namespace, name), serviceAccount: { namespace, name } });
      return token;
    },
    async kubeconfigFor(token) {
      const own = join(dir, `user-${++kubeconfigs}`);
      await mkdir(own);
      return writeKubeconfig(own, url, token);
    },
    settled: () => cluster.settled(),
    async close() {
      http.stopWatches();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await cluster.settled();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The roles and bindings an RBAC cluster starts with. */
function seedPolicy(cluster: FakeCluster): void {
  for (const { plural, object } of bootstrapPolicy()) {
    const type = cluster.registry.byResource(RBAC_GROUP, "v1", plural);
    if (type) cluster.api.create({ type, version: "v1", namespace: undefined, name: undefined, subresource: undefined }, object, { dryRun: false, manager: "kube-apiserver", force: false, fieldValidation: "Strict" });
  }
  cluster.api.persisted = 0;
}

/** The namespaces every cluster starts with. */
function seedNamespaces(cluster: FakeCluster): void {
  const type = cluster.registry.byResource("", "v1", "namespaces");
  if (!type) return;
  for (const name of ["default", "kube-system", "kube-public", "kube-node-lease"]) {
    cluster.api.create({ type, version: "v1", namespace: undefined, name: undefined, subresource: undefined }, { apiVersion: "v1", kind: "Namespace", metadata: { name } }, { dryRun: false, manager: "kube-apiserver", force: false, fieldValidation: "Strict" });
  }
  cluster.api.persisted = 0;
}
