// The agent's guards on the Kubernetes target, driven from the CLI against the
// fake API server: a mass delete refused then allowed, unsigned commits refused
// with nothing written, and Secret values (SOPS-encrypted or plain in Git)
// applied but never shown.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { isJsonObject } from "../../src/core/json.js";
import { generateIdentity } from "../../src/secrets/age.js";
import { buildSopsYaml } from "../support/sops-fixture.js";
import { createSshKey, writeAllowedSigners } from "../support/test-signing.js";
import type { JsonObject } from "../support/kube-fake/index.js";
import { condition, filesContaining, isReady, outputOf } from "./harness.js";
import { configMapYaml, kubeApplicationYaml, startKubeScenario } from "./kube-scenario.js";

const hasSshKeygen = spawnSync("ssh-keygen", ["-?"]).error === undefined;

/** A Secret's `data` as the cluster holds it. */
function dataOf(object: JsonObject | undefined): JsonObject | undefined {
  return isJsonObject(object?.data) ? object.data : undefined;
}

function base64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}

describe("guards on the kubernetes target", () => {
  test("deleting most of an application's objects in Git is refused with nothing written; ferry sync --allow-mass-delete or the annotation in Git lets it through", async (t) => {
    const { s, fake, kube } = await startKubeScenario(t);
    const configs = (names: readonly string[], note: string | null): Record<string, string | null> =>
      Object.fromEntries(names.map((n) => [`apps/shop/${n}.yaml`, note === null ? null : configMapYaml(`shop-${n}`, { note })]));
    const live = (n: string): JsonObject | undefined => fake.get("v1", "ConfigMap", "default", `shop-${n}`);

    const first = await s.commit("Four ConfigMaps", { "ferry/apps.yaml": kubeApplicationYaml({ name: "shop" }), ...configs(["a", "b", "c", "d"], "one") });
    s.startAgent({ extra: kube });
    await s.waitForReady("shop", first);
    const writes = fake.stats.writes;

    const drop = await s.commit("Delete three, change the last", { ...configs(["b", "c", "d"], null), ...configs(["a"], "two") });
    const refused = await s.waitForStatus("shop", "Stalled: MassDeleteRefused", (st) => st.lastAttemptedRevision === drop && condition(st, "Stalled")?.reason === "MassDeleteRefused");
    assert.match(condition(refused, "Stalled")?.message ?? "", /refusing to delete 3 of 4 objects \(more than 50% of application shop\); nothing was applied or pruned/);
    assert.equal(refused.sync.revision, first, "the last good revision stays synced");
    for (const n of ["a", "b", "c", "d"]) assert.ok(live(n), `ConfigMap shop-${n} is still in the cluster`);
    assert.deepEqual(dataOf(live("a")), { note: "one" }, "nothing of the refused revision is applied");
    assert.equal(fake.stats.writes, writes, "nothing was written to the cluster");

    const sync = await s.ferry("sync", "shop", "--allow-mass-delete");
    assert.equal(sync.code, 0, outputOf(sync));
    for (const n of ["b", "c", "d"]) assert.equal(live(n), undefined, `ConfigMap shop-${n} is deleted`);
    assert.deepEqual(dataOf(live("a")), { note: "two" });
    const allowed = await s.status("shop");
    assert.equal(condition(allowed, "Stalled"), undefined);
    assert.equal(allowed.lastSync?.changeSet.deleted.length, 3);

    // Or Git says so: replacing the one object left deletes all the application owns, which the annotation allows.
    const annotated = await s.commit("Replace the last ConfigMap, allowed by the Application", {
      "ferry/apps.yaml": kubeApplicationYaml({ name: "shop", annotations: { "ferry.dev/allow-mass-delete": "true" } }),
      ...configs(["a"], null),
      ...configs(["h"], "one"),
    });
    await s.waitForReady("shop", annotated);
    assert.equal(live("a"), undefined, "ConfigMap shop-a is deleted");
    assert.ok(live("h"));
  });

  test("with --verify-signatures, an unsigned commit writes nothing to the cluster and is reported; the next signed commit is applied", { skip: hasSshKeygen ? false : "ssh-keygen is not installed (apt-get install openssh-client)" }, async (t) => {
    const { s, fake, kube } = await startKubeScenario(t);
    const trusted = await createSshKey(s.dir, "trusted");
    const allowedSigners = await writeAllowedSigners(join(s.dir, "allowed_signers"), [trusted]);
    const live = (name: string): JsonObject | undefined => fake.get("v1", "ConfigMap", "default", name);

    const good = await s.commit("web, signed", { "ferry/apps.yaml": kubeApplicationYaml({ name: "web" }), "apps/web/config.yaml": configMapYaml("web", { greeting: "signed" }) }, trusted.signing.config);
    s.startAgent({ extra: [...kube, "--verify-signatures", "--allowed-signers", allowedSigners] });
    await s.waitForReady("web", good);
    assert.deepEqual(dataOf(live("web")), { greeting: "signed" });
    const writes = fake.stats.writes;

    const change = (greeting: string): Record<string, string> => ({ "apps/web/config.yaml": configMapYaml("web", { greeting }), "apps/web/extra.yaml": configMapYaml("web-extra", { greeting }) });
    const unsigned = await s.commit("Unsigned change", change("unsigned"));
    const stalled = await s.waitForStatus("web", "Stalled on the unsigned commit", (st) => st.lastAttemptedRevision === unsigned && condition(st, "Stalled")?.status === "True");
    assert.equal(condition(stalled, "Stalled")?.reason, "SignatureRefused");
    assert.equal(condition(stalled, "Ready")?.message, `revision ${unsigned.slice(0, 8)} refused: unsigned`);
    assert.equal(stalled.sync.revision, good, "the synced revision stays the signed one");
    const text = await s.ferry("status", "web");
    assert.equal(text.code, 1, outputOf(text));
    assert.match(text.stdout, /Stalled=True SignatureRefused/);
    await s.waitFor("the agent to log the refusal", () => s.agent.output.includes(`revision ${unsigned.slice(0, 8)} refused: unsigned`));

    assert.equal(fake.stats.writes, writes, "nothing was written to the cluster");
    assert.deepEqual(dataOf(live("web")), { greeting: "signed" });
    assert.equal(live("web-extra"), undefined);

    const next = await s.commit("Signed change", change("signed again"), trusted.signing.config);
    const recovered = await s.waitForReady("web", next);
    assert.equal(condition(recovered, "Stalled"), undefined);
    assert.deepEqual(dataOf(live("web")), { greeting: "signed again" });
    assert.deepEqual(dataOf(live("web-extra")), { greeting: "signed again" });
  });

  test("a SOPS-encrypted Secret is applied decrypted; no Secret's value, encrypted in Git or plain, reaches output, diff, status, events, history or state files", async (t) => {
    const { s, fake, kube } = await startKubeScenario(t);
    const PASSWORD = "pw-k8s-5e1c9d7a3b";
    const TOKEN = "tok-k8s-8a2f6c0e4d";
    const ROTATED = "tok-k8s-rotated-71b3";
    const EDITED = ["edited-by-hand-c4a9", "edited-by-hand-0f6e"];
    const { identity, recipient } = generateIdentity();
    const keyFile = join(s.dir, "age-key.txt");
    await writeFile(keyFile, `# created: for this test\n${identity}\n`, { mode: 0o600 });
    // As `kubectl get secret -o yaml` exports it: the last kubectl apply keeps the data in an annotation too.
    const plainSecret = (token: string): string => {
      const lastApplied = JSON.stringify({ apiVersion: "v1", data: { token: base64(token) }, kind: "Secret", metadata: { annotations: {}, name: "api", namespace: "default" }, type: "Opaque" });
      return ["apiVersion: v1", "kind: Secret", "metadata:", "  name: api", "  annotations:", `    kubectl.kubernetes.io/last-applied-configuration: ${JSON.stringify(lastApplied)}`, "type: Opaque", "data:", `  token: ${base64(token)}`, ""].join("\n");
    };
    const sealed = buildSopsYaml({ apiVersion: "v1", kind: "Secret", metadata: { name: "db" }, type: "Opaque", stringData: { password: PASSWORD } }, recipient, { encryptedRegex: "^(data|stringData)$" });
    const liveData = (name: string): JsonObject | undefined => dataOf(fake.get("v1", "Secret", "default", name));

    const first = await s.commit("An encrypted database password and a plain API token", {
      "ferry/apps.yaml": kubeApplicationYaml({ name: "vault", selfHeal: false }),
      "apps/vault/db.sops.yaml": sealed,
      "apps/vault/api.yaml": plainSecret(TOKEN),
    });
    assert.doesNotMatch(s.read("apps/vault/db.sops.yaml"), new RegExp(PASSWORD), "Git holds only ciphertext");
    s.startAgent({ json: true, extra: [...kube, "--age-key-file", keyFile] });
    await s.waitForReady("vault", first);
    assert.deepEqual(liveData("db"), { password: base64(PASSWORD) }, "the cluster holds the decrypted value");
    assert.deepEqual(liveData("api"), { token: base64(TOKEN) });

    // What merging a rotated token would change: the field, not the values.
    await s.git("checkout", "-q", "-b", "rotate");
    await s.commit("Rotate the token", { "apps/vault/api.yaml": plainSecret(ROTATED) });
    await s.git("checkout", "-q", "main");
    const preview = await s.ferry("diff", "--revision", "rotate");
    assert.equal(preview.code, 1, outputOf(preview));
    assert.match(preview.stdout, /~ Secret\/default\/api\n\s+data\.token: "\(secret\)" -> "\(secret\)"/);

    // Both Secrets edited in the cluster: drift is reported (self-heal is off) with the values masked.
    fake.edit("v1", "Secret", "default", "api", (o) => void (o.data = { token: base64(EDITED[0] ?? "") }));
    fake.edit("v1", "Secret", "default", "db", (o) => void (o.data = { password: base64(EDITED[1] ?? "") }));
    const drifted = await s.waitForStatus("vault", "drift of both Secrets", (st) => ["/Secret/default/api", "/Secret/default/db"].every((k) => st.drift.some((d) => d.key === k)));
    assert.deepEqual(drifted.drift.find((d) => d.key === "/Secret/default/api")?.differences.map((d) => [d.path, d.desired, d.live]), [["/data/token", "(secret)", "(secret)"]]);
    const diff = await s.ferry("diff", "vault");
    assert.equal(diff.code, 1, outputOf(diff));
    assert.match(diff.stdout, /~ Secret\/default\/api\n\s+data\.token: "\(secret\)" -> "\(secret\)"/);
    assert.match(diff.stdout, /~ Secret\/default\/db\n\s+data\.password: "\(secret\)" -> "\(secret\)"/);
    const status = await s.ferry("status", "vault", "-o", "json");

    const sync = await s.ferry("sync", "vault");
    assert.equal(sync.code, 0, outputOf(sync));
    assert.deepEqual(liveData("db"), { password: base64(PASSWORD) }, "the sync puts the decrypted value back");
    assert.deepEqual(liveData("api"), { token: base64(TOKEN) });
    await s.waitForStatus("vault", "Ready without drift", (st) => isReady(st) && st.drift.length === 0);

    const history = await s.ferry("history", "-o", "json");
    assert.equal(history.code, 0, outputOf(history));
    assert.match(history.stdout, /DriftDetected/);
    await s.agent.stop();
    const events = s.agent.events().map((e) => e.type);
    for (const type of ["SyncFinished", "DriftDetected"]) assert.ok(events.includes(type), `the agent printed ${type}`);

    const shown: Record<string, string> = {
      "the agent's output and events": s.agent.output,
      "ferry diff --revision": outputOf(preview),
      "ferry diff": outputOf(diff),
      "ferry status -o json": outputOf(status),
      "ferry sync": outputOf(sync),
      "ferry history -o json": outputOf(history),
    };
    for (const value of [PASSWORD, TOKEN, ROTATED, ...EDITED]) {
      // Git holds the plain token: the agent's checkouts under sources/ may too. Nothing else may, the history database included.
      const skip = value === TOKEN || value === ROTATED ? ["sources"] : [];
      for (const form of [value, base64(value)]) {
        for (const [where, text] of Object.entries(shown)) assert.ok(!text.includes(form), `${form} must not be in ${where}:\n${text}`);
        assert.deepEqual(filesContaining(s.state, form, skip), [], `${form} must not be in the state directory`);
      }
    }
    assert.ok(filesContaining(s.state, "DriftDetected").some((f) => f.startsWith("history.db")), "the history database was searched");
    assert.ok(filesContaining(s.state, base64(TOKEN)).some((f) => f.startsWith("sources")), "the checkouts were searched");
  });
});
