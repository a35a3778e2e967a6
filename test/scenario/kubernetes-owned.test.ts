// What runs as an application's on Kubernetes is never missing from its
// inventory: an agent that lost its record (killed after its apply, before
// the save) finds the objects by their label and mark, and prunes what left Git.
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { getObject } from "../support/kube-test-support.js";
import { outputOf } from "./harness.js";
import { configMapYaml, kubeApplicationYaml, startKubeScenario } from "./kube-scenario.js";

const SECRET = `apiVersion: v1
kind: Secret
metadata:
  name: token
stringData:
  token: s3cret
`;

describe("kubernetes: objects carrying the application's marks", () => {
  test("a record lost after the apply: the restarted agent takes the objects back and prunes the one that left Git", async (t) => {
    const { s, client, kube } = await startKubeScenario(t);
    await s.commit("shop", {
      "ferry/applications.yaml": kubeApplicationYaml({ name: "shop", namespace: "default", prune: true }),
      "apps/shop/config.yaml": configMapYaml("settings", { mode: "fast" }),
      "apps/shop/secret.yaml": SECRET,
    });
    const once = await s.ferry(...s.agentArgs({ once: true, extra: kube }).slice(2));
    assert.equal(once.code, 0, outputOf(once));
    assert.ok(await getObject(client, "/api/v1/namespaces/default/secrets/token"), "the Secret is applied");

    // The agent died before its record was saved: nothing on disk says what it applied.
    await rm(join(s.state, "apps", "shop.json"));
    // The Secret leaves Git: no desired object of its kind remains to lead a read to it.
    const last = await s.commit("the Secret leaves Git", { "apps/shop/secret.yaml": null });
    const again = await s.ferry(...s.agentArgs({ once: true, extra: kube }).slice(2));
    assert.equal(again.code, 0, outputOf(again));

    const status = await s.status("shop");
    assert.equal(status.sync.revision, last);
    assert.deepEqual(
      status.inventory.map((e) => String(e.key)),
      ["/ConfigMap/default/settings"],
      "the ConfigMap is taken back into the inventory, the pruned Secret is gone from it",
    );
    assert.equal(await getObject(client, "/api/v1/namespaces/default/secrets/token"), undefined, "the Secret that left Git is pruned");
    assert.ok(await getObject(client, "/api/v1/namespaces/default/configmaps/settings"));
  });
});
