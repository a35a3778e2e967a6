// A kustomization holding a SOPS-encrypted Secret, applied by the agent to the
// fake Kubernetes API: the cluster gets the decrypted value, nothing Ferry
// prints or keeps holds it, and a Secret edited after encryption stalls.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { findCondition } from "../../src/core/conditions.js";
import { isJsonObject } from "../../src/core/json.js";
import { findExecutable } from "../../src/render/tools/find-tool.js";
import { generateIdentity } from "../../src/secrets/age.js";
import { buildSopsYaml } from "../support/sops-fixture.js";
import { editByHand, getObject } from "../support/kube-test-support.js";
import { filesContaining, outputOf } from "./harness.js";
import { kubeApplicationYaml, startKubeScenario } from "./kube-scenario.js";

const PASSWORD = "kube-sops-5e1d7a93c2";
const SECRET_PATH = "/api/v1/namespaces/default/secrets/prd-db";
const noKustomize = (await findExecutable(["kustomize"])) ?? (await findExecutable(["kubectl"])) ? false : "neither kustomize nor kubectl is installed (install kustomize, or kubectl)";

const APPLICATION = kubeApplicationYaml({ name: "web", path: "apps/prd" });
describe("a SOPS Secret in a kustomization, on Kubernetes", { skip: noKustomize }, () => {
  test("the cluster gets the decrypted value; output, status, diff, history and state never hold it; an edited file stalls", async (t) => {
    const { s, client, kube } = await startKubeScenario(t);
    const owner = generateIdentity();
    const keyFile = join(s.dir, "age-key.txt");
    await writeFile(keyFile, `# public key: ${owner.recipient}\n${owner.identity}\n`, { mode: 0o600 });
    const secret = (name: string): string =>
      buildSopsYaml({ apiVersion: "v1", kind: "Secret", metadata: { name }, type: "Opaque", stringData: { password: PASSWORD, user: "app" } }, owner.recipient, {
        encryptedRegex: "^(data|stringData)$",
      });
    const first = await s.commit("web with a SOPS Secret in its kustomize base", {
      "ferry/applications.yaml": APPLICATION,
      "apps/base/kustomization.yaml": "resources: [secret.sops.yaml, config.yaml]\n",
      "apps/base/secret.sops.yaml": secret("db"),
      "apps/base/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  greeting: hello\n",
      // bases, namespace, namePrefix: read alike by kubectl 1.20's kustomize and kustomize v5.
      "apps/prd/kustomization.yaml": "bases: [../base]\nnamespace: default\nnamePrefix: prd-\n",
    });
    assert.doesNotMatch(s.read("apps/base/secret.sops.yaml"), new RegExp(PASSWORD), "Git holds only ciphertext");

    // Without a key, validate checks the structure of what kustomize rendered and of its source.
    const validate = await s.ferry("validate", s.repo);
    assert.equal(validate.code, 0, outputOf(validate));
    assert.match(validate.stdout, /1 file with encrypted values/);

    s.startAgent({ extra: [...kube, "--age-key-file", keyFile] });
    await s.waitForReady("web", first);
    const applied = await getObject(client, SECRET_PATH);
    assert.ok(applied, "the Secret is applied under kustomize's name and namespace");
    const data = isJsonObject(applied.data) ? applied.data : {};
    assert.equal(Buffer.from(String(data["password"]), "base64").toString("utf8"), PASSWORD, "the cluster holds the decrypted value");
    assert.equal(Buffer.from(String(data["user"]), "base64").toString("utf8"), "app");
    assert.equal(Object.hasOwn(applied, "sops"), false, "the sops block is not applied");
    const serialized = JSON.stringify(applied);
    assert.doesNotMatch(serialized, /ENC\[AES256_GCM/);

    // Edited by hand: the drift is reported without the value, and the decrypted value is put back.
    await editByHand(client, SECRET_PATH, { data: { password: Buffer.from("changed-by-hand").toString("base64") } });
    await s.waitFor("the hand edit of the Secret to be corrected", async () => {
      const live = await getObject(client, SECRET_PATH);
      return isJsonObject(live?.data) && Buffer.from(String(live.data["password"]), "base64").toString("utf8") === PASSWORD;
    });
    assert.match(s.agentOutput(), /drift: Secret\/default\/prd-db \(\/data\/password\)/);
    const diff = await s.ferry("diff", "web");

    // A Secret edited without re-encrypting (its MAC no longer matches) stalls, naming the file; nothing is applied or pruned.
    const tampered = secret("db").replace("name: db", "name: db-renamed");
    const broken = await s.commit("rename the Secret without re-encrypting", {
      "apps/base/secret.sops.yaml": tampered,
      "apps/base/kustomization.yaml": "resources: [secret.sops.yaml]\n",
      "apps/base/config.yaml": null,
    });
    const stalled = await s.waitForStatus("web", "Stalled: DecryptionFailed", (st) => st.lastAttemptedRevision === broken && findCondition(st.conditions, "Stalled")?.reason === "DecryptionFailed");
    assert.match(findCondition(stalled.conditions, "Stalled")?.message ?? "", /apps\/base\/secret\.sops\.yaml: cannot decrypt: MAC mismatch/);
    assert.equal(stalled.sync.revision, first, "the last good revision stays");
    assert.ok(await getObject(client, "/api/v1/namespaces/default/configmaps/prd-web"), "nothing is pruned by the refused revision");

    const status = await s.ferry("status", "web", "-o", "json");
    const history = await s.ferry("history", "web", "-o", "json");
    await s.agent.stop();
    const needles = [PASSWORD, Buffer.from(PASSWORD).toString("base64")];
    const seen = [s.agentOutput(), outputOf(diff), outputOf(status), outputOf(history)].join("\n");
    for (const needle of needles) assert.equal(seen.includes(needle), false, `${needle} must not be in the agent's output, diff, status or history`);
    assert.deepEqual(needles.flatMap((needle) => filesContaining(s.state, needle)), [], "no file of the state directory (history database, inventory) holds the value");
    assert.ok(filesContaining(s.state, "SyncFinished").some((f) => f.startsWith("history.db")), "the history database was searched");
  });
});
