/**
 * What every scenario against the Kubernetes target starts from: a Scenario
 * (Git repository, state directory), the fake API server, a client of it and
 * the agent flags that select it, all closed when the test ends; and the
 * manifests those scenarios commit.
 */
import type { TestContext } from "node:test";
import type { KubeClient } from "../../src/targets/kubernetes/kube-client.js";
import { clientFor } from "../support/kube-test-support.js";
import type { FakeKube, FakeKubeOptions } from "../support/kube-fake/index.js";
import { startFakeKube } from "../support/kube-fake/index.js";
import { Scenario } from "./harness.js";

/** One scenario's world with a cluster. */
export interface KubeScenario {
  readonly s: Scenario;
  readonly fake: FakeKube;
  /** A client of the fake, through the kubeconfig the agent reads. */
  readonly client: KubeClient;
  /** `ferry agent` flags that make the fake the default cluster. */
  readonly kube: readonly string[];
}

/** Starts the fake API server and a fresh Scenario; the test's end stops the agents, the client and the server and removes their files. */
export async function startKubeScenario(t: TestContext, options: FakeKubeOptions = {}): Promise<KubeScenario> {
  const fake = await startFakeKube(options);
  const client = clientFor(fake.kubeconfigPath, "fake");
  const s = await Scenario.create();
  t.after(async () => {
    await s.cleanup();
    client.close();
    await fake.close();
  });
  return { s, fake, client, kube: ["--kubeconfig", fake.kubeconfigPath, "--kube-context", "fake"] };
}

/** The knobs of an Application on the Kubernetes target. */
export interface KubeApplicationOptions {
  readonly name: string;
  /** Namespace of objects that name none; default `default`. */
  readonly namespace?: string;
  readonly prune?: boolean;
  readonly selfHeal?: boolean;
  readonly annotations?: Readonly<Record<string, string>>;
  /** Directory of its manifests; default `apps/<name>`. */
  readonly path?: string;
  /** `spec.kubernetes.ignoreDifferences` rules, each written as a YAML flow mapping. */
  readonly ignoreDifferences?: readonly string[];
  /** `spec.kubernetes.adopt`. */
  readonly adopt?: boolean;
}

/** An Application document with `target: kubernetes` reading `apps/<name>` (or its `path`). */
export function kubeApplicationYaml(options: KubeApplicationOptions): string {
  const annotations = Object.entries(options.annotations ?? {});
  const policy = [
    ...(options.prune !== undefined ? [`    prune: ${options.prune}`] : []),
    ...(options.selfHeal !== undefined ? [`    selfHeal: ${options.selfHeal}`] : []),
  ];
  return [
    "apiVersion: ferry.dev/v1",
    "kind: Application",
    "metadata:",
    `  name: ${options.name}`,
    ...(annotations.length > 0 ? ["  annotations:", ...annotations.map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`)] : []),
    "spec:",
    "  source:",
    `    path: ${options.path ?? `apps/${options.name}`}`,
    "  target: kubernetes",
    ...(options.namespace !== undefined ? [`  namespace: ${options.namespace}`] : []),
    ...(options.ignoreDifferences || options.adopt !== undefined ? ["  kubernetes:"] : []),
    ...(options.adopt !== undefined ? [`    adopt: ${options.adopt}`] : []),
    ...(options.ignoreDifferences ? ["    ignoreDifferences:", ...options.ignoreDifferences.map((rule) => `      - ${rule}`)] : []),
    ...(policy.length > 0 ? ["  syncPolicy:", ...policy] : []),
    "",
  ].join("\n");
}

/** A ConfigMap manifest (its namespace left to the Application). */
export function configMapYaml(name: string, data: Readonly<Record<string, string>>): string {
  return ["apiVersion: v1", "kind: ConfigMap", "metadata:", `  name: ${name}`, "data:", ...Object.entries(data).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`), ""].join("\n");
}
