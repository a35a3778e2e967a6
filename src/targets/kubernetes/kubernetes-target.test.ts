import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { after, before, describe, it } from "node:test";
import { FerryError } from "../../core/errors.js";
import type { JsonObject } from "../../core/json.js";
import { isJsonObject } from "../../core/json.js";
import type { Manifest } from "../../core/objects.js";
import { startFakeKube } from "../../../test/support/kube-fake/index.js";
import type { FakeKube } from "../../../test/support/kube-fake/index.js";
import type { LiveChange, ObjectContext, TargetSettings } from "../target.js";
import { makeObject } from "../../../test/support/target-testing.js";
import { clientFor, editByHand, getObject } from "../../../test/support/kube-test-support.js";
import type { KubernetesTarget } from "./kubernetes-target.js";
import { createKubernetesTarget } from "./kubernetes-target.js";

const deployment = (name: string, extra: { image?: string; replicas?: number; app?: string; annotations?: Record<string, string> } = {}): Manifest => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, namespace: "default", ...(extra.annotations ? { annotations: extra.annotations } : {}) },
  spec: {
    replicas: extra.replicas ?? 1,
    selector: { matchLabels: { app: extra.app ?? name } },
    template: { metadata: { labels: { app: extra.app ?? name } }, spec: { containers: [{ name: "web", image: extra.image ?? "web:1" }] } },
  },
});

const configMap = (name: string, greeting: string): Manifest => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "default" }, data: { greeting } });

const context = (settings?: TargetSettings): ObjectContext => ({ application: "shop", artifactDirectory: tmpdir(), ...(settings ? { settings } : {}) });

async function rejects(work: Promise<unknown>, reason: string, pattern: RegExp, disposition: "stalled" | "transient" = "stalled"): Promise<void> {
  await assert.rejects(work, (error: unknown) => {
    assert.ok(error instanceof FerryError, `not a FerryError: ${String(error)}`);
    assert.equal(error.reason, reason, error.message);
    assert.equal(error.disposition, disposition);
    assert.match(error.message, pattern);
    return true;
  });
}

function metadataOf(object: JsonObject | undefined): JsonObject {
  return isJsonObject(object?.metadata) ? object.metadata : {};
}

describe("kubernetes target", () => {
  let fake: FakeKube;
  let target: KubernetesTarget;
  const admin = () => clientFor(fake.kubeconfigPath, "fake");
  before(async () => {
    fake = await startFakeKube();
    target = createKubernetesTarget({ client: clientFor(fake.kubeconfigPath, "fake") });
  });
  after(async () => {
    await target.close();
    await fake.close();
  });

  it("applies with server-side apply as field manager ferry, labelled with its application", async () => {
    const object = makeObject(deployment("ssa"), "apps/shop/web.yaml");
    assert.equal(await target.apply(object, context()), "created");
    const live = fake.get("apps/v1", "Deployment", "default", "ssa");
    const meta = metadataOf(live);
    assert.deepEqual(meta.labels, { "ferry.dev/application": "shop" });
    const managers = (Array.isArray(meta.managedFields) ? meta.managedFields : []).filter(isJsonObject).map((m) => `${String(m.manager)}/${String(m.operation)}`);
    assert.ok(managers.includes("ferry/Apply"), managers.join(", "));
  });

  it("sends no request that could write, and no request at all, for an object that did not change", async () => {
    const object = makeObject(deployment("steady"), "apps/shop/web.yaml");
    await target.apply(object, context());
    await fake.settled();
    // Once the rollout's status has settled, the comparison is made once more, then remembered.
    await target.describe(object, context());
    fake.stats.reset();
    const before = { ...target.client.stats };
    const desired = await target.describe(object, context());
    const live = (await target.read([object.key])).get(object.key);
    assert.deepEqual(live?.state, desired);
    assert.equal(await target.apply(object, context()), "unchanged");
    assert.equal(fake.stats.writes, 0, "the fake stored no write");
    assert.equal(target.client.stats.writes - before.writes, 0, "no request that could write was sent");
    assert.equal(fake.stats.calls, 0, `requests sent: ${JSON.stringify(fake.stats.byVerb)}`);

    const changed = makeObject(deployment("steady", { image: "web:2" }), "apps/shop/web.yaml");
    await target.describe(changed, context());
    assert.equal(await target.apply(changed, context()), "configured");
    assert.equal(fake.stats.writes, 1, "one changed object is one write");
  });

  it("asks once whether a new object exists: describe, read and apply share the answer; one dry run and one write", async () => {
    const object = makeObject(configMap("fresh", "hello"), "apps/shop/config.yaml");
    await target.describe(makeObject(configMap("warm-up", "x"), "apps/shop/config.yaml"), context());
    fake.stats.reset();
    await target.describe(object, context());
    await target.read([object.key]);
    assert.equal(await target.apply(object, context()), "created");
    assert.equal(fake.stats.byVerb.get ?? 0, 1, `requests sent: ${JSON.stringify(fake.stats.byVerb)}`);
    assert.equal(fake.stats.byVerb.patch ?? 0, 2, "a dry run, then the apply");
    assert.equal(fake.stats.writes, 1);
    const live = (await target.read([object.key])).get(object.key);
    assert.ok(live, "once written, the object is read as present at once");
  });

  it("reports a conflict with another applier as one to retry, naming the field, the manager and the file; the diff names the manager; forceConflicts takes the field", async () => {
    const object = makeObject(configMap("contested", "ours"), "apps/shop/config.yaml");
    await target.apply(object, context());
    const client = admin();
    const res = await client.request({
      method: "PATCH",
      path: "/api/v1/namespaces/default/configmaps/contested",
      query: { fieldManager: "other-tool", force: "true" },
      body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "contested" }, data: { greeting: "theirs" } },
      contentType: "application/apply-patch+yaml",
    });
    client.close();
    assert.equal(res.status, 200, JSON.stringify(res.body));
    // Reads come from the watch: wait until it has seen the other applier's change.
    await waitUntil(async () => JSON.stringify((await target.read([object.key])).get(object.key)?.state).includes("theirs"), "the watch to see the change");
    // The comparison shows Git's value, and who holds the field; the apply is refused until that manager lets it go.
    assert.deepEqual(((await target.describe(object, context())) as { data?: unknown }).data, { greeting: "ours" });
    assert.equal((await target.explain?.(object.key, ["/data/greeting"]))?.get("/data/greeting"), "set by other-tool (Apply)");
    await rejects(target.apply(object, context()), "ApplyConflict", /ConfigMap\/default\/contested \(apps\/shop\/config\.yaml:1\).*\.data\.greeting \(owned by other-tool\).*forceConflicts/, "transient");
    assert.equal(await target.apply(object, context({ forceConflicts: true })), "configured");
    assert.deepEqual(fake.get("v1", "ConfigMap", "default", "contested")?.data, { greeting: "ours" });
  });

  it("takes back a field a person edited, and names who changed it in the diff", async () => {
    const object = makeObject(configMap("edited", "hello"), "apps/shop/config.yaml");
    await target.apply(object, context());
    const changes: LiveChange[] = [];
    const unwatch = target.watch((c) => changes.push(c));
    const client = admin();
    await editByHand(client, "/api/v1/namespaces/default/configmaps/edited", { data: { greeting: "by hand" } });
    client.close();
    try {
      await waitUntil(() => changes.some((c) => c.key === object.key && c.owner === "shop"), "a watch event for the hand edit");
    } finally {
      unwatch();
    }
    const notes = await target.explain?.(object.key, ["/data/greeting"]);
    assert.equal(notes?.get("/data/greeting"), "set by kubectl-edit (Update)");
    assert.notDeepEqual((await target.read([object.key])).get(object.key)?.state, await target.describe(object, context()));
    assert.equal(await target.apply(object, context()), "configured");
    assert.deepEqual(fake.get("v1", "ConfigMap", "default", "edited")?.data, { greeting: "hello" });
  });

  it("leaves ignored fields out of comparisons and out of updates", async () => {
    const settings: TargetSettings = { ignoreDifferences: [{ group: "apps", kind: "Deployment", jsonPointers: ["/spec/replicas"] }] };
    const object = makeObject(deployment("scaled"), "apps/shop/web.yaml");
    await target.apply(object, context(settings));
    fake.edit("apps/v1", "Deployment", "default", "scaled", (o) => {
      (o.spec as { replicas: number }).replicas = 5;
    }, "horizontal-pod-autoscaler");
    await waitUntil(async () => (await target.read([object.key])).get(object.key)?.ignored?.["/spec/replicas"] === 5, "the target to see the edit");
    const desired = await target.describe(object, context(settings));
    const live = (await target.read([object.key])).get(object.key);
    assert.deepEqual(live?.state, desired, "the autoscaler's replicas are no difference");
    assert.deepEqual(target.ignoredFields?.(object, settings), [{ pointer: "/spec/replicas", rule: "ignoreDifferences[0] (group apps, kind Deployment, /spec/replicas)", desired: 1 }], "Git's value, and the rule");
    assert.deepEqual(live?.ignored, { "/spec/replicas": 5 }, "the live value is read beside the state, to be shown");
    assert.equal((await target.explain?.(object.key, ["/spec/replicas"]))?.get("/spec/replicas"), "set by horizontal-pod-autoscaler (Update)");
    const newImage = makeObject(deployment("scaled", { image: "web:2" }), "apps/shop/web.yaml");
    await target.describe(newImage, context(settings));
    assert.equal(await target.apply(newImage, context(settings)), "configured");
    const spec = fake.get("apps/v1", "Deployment", "default", "scaled")?.spec as { replicas: number } | undefined;
    assert.equal(spec?.replicas, 5, "an update of another field keeps the autoscaler's replicas");
  });

  it("keeps an ignored field Git set when nobody else has taken it yet", async () => {
    const settings: TargetSettings = { ignoreDifferences: [{ group: "apps", kind: "Deployment", jsonPointers: ["/spec/replicas"] }] };
    await target.apply(makeObject(deployment("unscaled", { replicas: 3 }), "apps/shop/web.yaml"), context(settings));
    const newImage = makeObject(deployment("unscaled", { replicas: 3, image: "web:2" }), "apps/shop/web.yaml");
    await target.describe(newImage, context(settings));
    assert.equal(await target.apply(newImage, context(settings)), "configured");
    const spec = fake.get("apps/v1", "Deployment", "default", "unscaled")?.spec as { replicas: number; template: unknown } | undefined;
    assert.equal(spec?.replicas, 3, "the replicas Git created it with stay (an update without them would drop Ferry's ownership and let the server default them)");
  });

  it("reports an immutable field clearly, and recreates the object when it is annotated to", async () => {
    await target.apply(makeObject(deployment("fixed", { app: "one" }), "apps/shop/web.yaml"), context());
    const moved = makeObject(deployment("fixed", { app: "two" }), "apps/shop/web.yaml");
    await rejects(target.describe(moved, context()), "ImmutableField", /Deployment\/default\/fixed \(apps\/shop\/web\.yaml:1\).*immutable.*ferry\.dev\/recreate/);
    const uid = metadataOf(fake.get("apps/v1", "Deployment", "default", "fixed")).uid;
    const recreate = makeObject(deployment("fixed", { app: "two", annotations: { "ferry.dev/recreate": "true" } }), "apps/shop/web.yaml");
    assert.equal(await target.apply(recreate, context()), "configured");
    const live = fake.get("apps/v1", "Deployment", "default", "fixed");
    assert.notEqual(metadataOf(live).uid, uid, "a new object");
    assert.deepEqual((live?.spec as { selector: unknown }).selector, { matchLabels: { app: "two" } });
  });

  it("never deletes an object its application did not create", async () => {
    const client = admin();
    try {
      await client.request({ method: "POST", path: "/api/v1/namespaces/default/configmaps", body: configMap("foreign", "not ferry's") });
      const foreign = makeObject(configMap("foreign", "x"));
      await target.delete(foreign.key, { application: "shop" });
      assert.ok(await getObject(client, "/api/v1/namespaces/default/configmaps/foreign"), "an object without Ferry's label stays");
      const other = makeObject(configMap("other-app", "x"));
      await target.apply(other, { ...context(), application: "other" });
      await target.delete(other.key, { application: "shop" });
      assert.ok(await getObject(client, "/api/v1/namespaces/default/configmaps/other-app"), "another application's object stays");
      await target.delete(other.key, { application: "other" });
      assert.equal(await getObject(client, "/api/v1/namespaces/default/configmaps/other-app"), undefined);
    } finally {
      client.close();
    }
  });

  it("refuses to apply over another application's object", async () => {
    await target.apply(makeObject(configMap("taken", "a")), { ...context(), application: "first" });
    await rejects(target.apply(makeObject(configMap("taken", "b"), "apps/second/c.yaml"), { ...context(), application: "second" }), "NotOwned", /belongs to application "first"/);
  });

  it("names the object and its file for an unknown resource type and for a manifest the server rejects", async () => {
    const widget = makeObject({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w", namespace: "default" } }, "apps/shop/widget.yaml");
    await rejects(target.describe(widget, context()), "UnknownResourceType", /Widget\/default\/w \(apps\/shop\/widget\.yaml:1\).*no resource type Widget/);
    const negative = makeObject(deployment("negative", { replicas: -1 }), "apps/shop/bad.yaml");
    await rejects(target.describe(negative, context()), "ApplyRejected", /Deployment\/default\/negative \(apps\/shop\/bad\.yaml:1\).*422.*spec\.replicas/);
    assert.equal(fake.get("apps/v1", "Deployment", "default", "negative"), undefined, "the dry run wrote nothing");
  });

  it("compares a custom resource whose definition is in the same sync, and applies it once the definition is established", async () => {
    const crd = makeObject(
      {
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: { name: "gadgets.example.com" },
        spec: {
          group: "example.com",
          scope: "Namespaced",
          names: { plural: "gadgets", singular: "gadget", kind: "Gadget" },
          versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } }],
        },
      },
      "apps/shop/crd.yaml",
    );
    const gadget = makeObject({ apiVersion: "example.com/v1", kind: "Gadget", metadata: { name: "g", namespace: "default" }, spec: { size: 3 } }, "apps/shop/gadget.yaml");
    // As the engine does: every object is compared before anything is applied.
    const [, described] = await Promise.all([target.describe(crd, context()), target.describe(gadget, context())]);
    assert.deepEqual(isJsonObject(described) ? described.spec : undefined, { size: 3 });
    assert.equal((await target.read([gadget.key])).size, 0);
    assert.equal(await target.apply(crd, context()), "created");
    await waitUntil(async () => (await target.health([crd.key])).get(crd.key)?.status === "Healthy", "the definition to be established");
    await target.describe(gadget, context());
    assert.equal(await target.apply(gadget, context()), "created");
    assert.ok(fake.get("example.com/v1", "Gadget", "default", "g"));
  });

  it("reports health by kind and Missing for what does not exist", async () => {
    const object = makeObject(deployment("healthy"), "apps/shop/web.yaml");
    await target.apply(object, context());
    await fake.settled();
    await waitUntil(async () => (await target.health([object.key])).get(object.key)?.status === "Healthy", "the Deployment to roll out");
    const absent = makeObject(deployment("absent")).key;
    assert.equal((await target.health([absent])).get(absent)?.status, "Missing");
  });
});

async function waitUntil(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
