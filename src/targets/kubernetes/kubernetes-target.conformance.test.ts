import { tmpdir } from "node:os";
import { after, before, describe, it } from "node:test";
import { parseResourceKey } from "../../core/ids.js";
import { startFakeKube } from "../../../test/support/kube-fake/index.js";
import type { FakeKube } from "../../../test/support/kube-fake/index.js";
import type { ConformanceHarness } from "../../../test/support/target-conformance.js";
import { targetConformance } from "../../../test/support/target-conformance.js";
import { makeObject } from "../../../test/support/target-testing.js";
import { clientFor, editByHand, scratchNamespace } from "../../../test/support/kube-test-support.js";
import { createKubernetesTarget } from "./kubernetes-target.js";

/** ConfigMaps in a scratch namespace; tamper edits their data as a person would. */
async function harness(kubeconfig: string, context?: string): Promise<ConformanceHarness> {
  const admin = clientFor(kubeconfig, context);
  const namespace = await scratchNamespace(admin);
  const target = createKubernetesTarget({ client: clientFor(kubeconfig, context) });
  return {
    target,
    context: { application: "conformance", artifactDirectory: tmpdir() },
    sample: (name, variant) =>
      makeObject({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: namespace.name }, data: { variant: String(variant), greeting: `hello ${variant}` } }, "apps/web/config.yaml"),
    async tamper(key) {
      const { name } = parseResourceKey(key);
      await editByHand(admin, `/api/v1/namespaces/${namespace.name}/configmaps/${name}`, { data: { greeting: "edited by hand" } });
    },
    async cleanup() {
      await target.close();
      await namespace.remove();
      admin.close();
    },
  };
}

describe("kubernetes target against the fake API server", () => {
  let fake: FakeKube;
  before(async () => {
    fake = await startFakeKube();
  });
  after(() => fake.close());
  targetConformance("kubernetes (fake API server)", () => harness(fake.kubeconfigPath, "fake"));
});

const realCluster = process.env.KUBECONFIG;
if (realCluster) {
  targetConformance("kubernetes (cluster of $KUBECONFIG)", () => harness(realCluster), { timeoutMs: 30_000 });
} else {
  it("target conformance: kubernetes (a real cluster)", { skip: "KUBECONFIG is not set: no real cluster to run the suite against" }, () => undefined);
}
