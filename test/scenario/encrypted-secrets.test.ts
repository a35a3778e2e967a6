// Secrets encrypted in Git (an age value, a SOPS file encrypted with age) are decrypted in memory and never shown.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { buildSopsYaml } from "../../src/secrets/sops-fixture.js";
import { applicationsYaml, filesYaml } from "./fixtures.js";
import { condition, filesContaining, freePort, httpGet, outputOf, Scenario } from "./harness.js";

const hasAge = spawnSync("age", ["--version"]).status === 0;
const TOKEN = "tok-7f3a9c1e5b2d";
const PASSWORD = "pw-42d8e6b0c1a9";

const SERVER = `import { createServer } from "node:http";
createServer((req, res) => res.end(req.url === "/healthz" ? "ok" : "token=" + process.env.API_TOKEN)).listen(Number(process.env.PORT), "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
`;

describe("encrypted secrets in Git", () => {
  test("an age value and a SOPS file are applied decrypted and never appear in logs, diff, status or history", { skip: hasAge ? false : "the age command is not installed (apt-get install age)" }, async (t) => {
    const s = await Scenario.create();
    t.after(() => s.cleanup());
    const keyFile = join(s.dir, "age-key.txt");
    execFileSync("age-keygen", ["-o", keyFile], { stdio: "ignore" });
    const recipient = /public key: (age1[0-9a-z]+)/.exec(readFileSync(keyFile, "utf8"))?.[1] ?? "";
    const sealed = execFileSync("age", ["-a", "-r", recipient], { input: TOKEN }).toString("utf8");
    const port = await freePort();
    const service = [
      "apiVersion: host.ferry.dev/v1",
      "kind: Service",
      "metadata:",
      "  name: vault",
      "spec:",
      "  command: node",
      "  args: [server.mjs]",
      "  workingDir: vault",
      "  env:",
      `    PORT: "${port}"`,
      "    API_TOKEN: |",
      ...sealed.trimEnd().split("\n").map((l) => `      ${l}`),
      "  healthCheck:",
      "    http:",
      `      url: http://127.0.0.1:${port}/healthz`,
      "    intervalSeconds: 0.2",
      "",
    ].join("\n");
    const db = (name: string): string =>
      buildSopsYaml({ apiVersion: "host.ferry.dev/v1", kind: "File", metadata: { name }, spec: { path: "vault/db.conf", content: `password=${PASSWORD}\n` } }, recipient, { encryptedRegex: "^content$" });
    const first = await s.commit("A service with an encrypted token and an encrypted database file", {
      "ferry/apps.yaml": applicationsYaml({ name: "vault", selfHeal: false }),
      "apps/vault/service.yaml": service,
      "apps/vault/db.sops.yaml": db("vault-db"),
      "apps/vault/files.yaml": filesYaml([{ name: "vault-server", path: "vault/server.mjs", contentFrom: "server.mjs" }]),
      "apps/vault/server.mjs": SERVER,
    });
    assert.doesNotMatch(readFileSync(join(s.repo, "apps/vault/db.sops.yaml"), "utf8"), new RegExp(PASSWORD), "Git holds only ciphertext");

    // Without a key, validate checks the structure and says it did not decrypt.
    const validate = await runValidate(s);
    assert.equal(validate.code, 0, outputOf(validate));
    assert.match(validate.stdout, /2 files with encrypted values \(SOPS, age\): structure checked only/);

    s.startAgent({ extra: ["--age-key-file", keyFile] });
    await s.waitForReady("vault", first);
    assert.equal(await httpGet(port), `token=${TOKEN}`, "the service runs with the decrypted token");
    assert.equal(readFileSync(join(s.root, "vault", "db.conf"), "utf8"), `password=${PASSWORD}\n`, "the file holds the decrypted value");

    // Edited by hand: the drift is reported with the value masked.
    await writeFile(join(s.root, "vault", "db.conf"), "password=changed-by-hand\n");
    await s.waitForStatus("vault", "drift", (st) => st.drift.length > 0);
    const diff = await s.ferry("diff", "vault");
    assert.match(diff.stdout, /File\/vault-db/);
    assert.match(diff.stdout, /\(secret\)/);

    // A SOPS file altered after encryption (its MAC no longer matches) stalls and names the file; the service keeps running.
    const tampered = db("vault-db").replace("name: vault-db", "name: vault-db2");
    await s.commit("Rename the database file without re-encrypting", { "apps/vault/db.sops.yaml": tampered });
    const stalled = await s.waitForStatus("vault", "Stalled: DecryptionFailed", (st) => condition(st, "Stalled")?.reason === "DecryptionFailed");
    assert.match(condition(stalled, "Stalled")?.message ?? "", /apps\/vault\/db\.sops\.yaml: cannot decrypt: MAC mismatch/);
    assert.equal(stalled.sync.revision, first, "the last good revision stays");
    assert.equal(await httpGet(port), `token=${TOKEN}`);

    const status = await s.ferry("status", "vault", "-o", "json");
    const history = await s.ferry("history", "vault", "-o", "json");
    const seen = [s.agentOutput(), outputOf(diff), outputOf(status), outputOf(history)].join("\n");
    for (const secret of [TOKEN, PASSWORD]) {
      assert.equal(seen.includes(secret), false, `${secret} must not be in the agent's output, diff, status or history`);
      // The host target keeps a Service's env to restart it after an agent restart (under host/); nothing else may hold it.
      assert.deepEqual(filesContaining(s.state, secret, ["host"]), [], `${secret} must not be in the state directory (history database, records)`);
    }
    assert.ok(filesContaining(s.state, "SyncFinished", ["host"]).some((f) => f.startsWith("history.db")), "the history database was searched");
  });
});

function runValidate(s: Scenario): ReturnType<Scenario["ferry"]> {
  return s.ferry("validate", s.repo);
}
