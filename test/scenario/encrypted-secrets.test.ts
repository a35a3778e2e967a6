// Secrets encrypted in Git (an age value, a SOPS file encrypted with age) are decrypted in memory and never shown.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { buildSopsYaml } from "../support/sops-fixture.js";
import { applicationsYaml, filesYaml } from "./fixtures.js";
import { condition, filesContaining, freePort, httpGet, isRunning, outputOf, processesIn, Scenario } from "./harness.js";

const hasAge = spawnSync("age", ["--version"]).status === 0;
const TOKEN = "tok-7f3a9c1e5b2d";
const PASSWORD = "pw-42d8e6b0c1a9";

const SERVER = `import { createServer } from "node:http";
createServer((req, res) => res.end(req.url === "/healthz" ? "ok" : "token=" + process.env.API_TOKEN + " pid=" + process.pid)).listen(Number(process.env.PORT), "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
`;

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

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
    assert.match((await httpGet(port)) ?? "", new RegExp(`^token=${TOKEN} pid=`), "the service runs with the decrypted token");
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
    assert.match((await httpGet(port)) ?? "", new RegExp(`^token=${TOKEN} pid=`));

    const status = await s.ferry("status", "vault", "-o", "json");
    const history = await s.ferry("history", "vault", "-o", "json");
    const seen = [s.agentOutput(), outputOf(diff), outputOf(status), outputOf(history)].join("\n");
    for (const secret of [TOKEN, PASSWORD]) {
      assert.equal(seen.includes(secret), false, `${secret} must not be in the agent's output, diff, status or history`);
    }
    for (const needle of [TOKEN, PASSWORD, sha256(`password=${PASSWORD}\n`)]) {
      assert.deepEqual(filesContaining(s.state, needle), [], `${needle} must not be in the state directory (history database, host records, logs)`);
    }
    assert.ok(filesContaining(s.state, "SyncFinished").some((f) => f.startsWith("history.db")), "the history database was searched");
  });

  test("a Service's env from a SOPS file runs across an agent restart, never written to the state directory, and the service is not restarted", { skip: hasAge ? false : "the age command is not installed (apt-get install age)" }, async (t) => {
    const s = await Scenario.create();
    t.after(() => s.cleanup());
    const keyFile = join(s.dir, "age-key.txt");
    execFileSync("age-keygen", ["-o", keyFile], { stdio: "ignore" });
    const recipient = /public key: (age1[0-9a-z]+)/.exec(readFileSync(keyFile, "utf8"))?.[1] ?? "";
    const port = await freePort();
    const service = {
      apiVersion: "host.ferry.dev/v1",
      kind: "Service",
      metadata: { name: "vault" },
      spec: { command: "node", args: ["server.mjs"], workingDir: "vault", env: { PORT: String(port), API_TOKEN: TOKEN }, stop: { gracePeriodSeconds: 2 } },
    };
    // Runs every second, so an interval run of the restarted agent tells that its first one is over.
    const revision = await s.commit("A service whose token is encrypted with SOPS", {
      "ferry/apps.yaml": applicationsYaml({ name: "vault", interval: "1s" }),
      "apps/vault/service.sops.yaml": buildSopsYaml(service, recipient, { encryptedRegex: "^API_TOKEN$" }),
      "apps/vault/files.yaml": filesYaml([{ name: "vault-server", path: "vault/server.mjs", contentFrom: "server.mjs" }]),
      "apps/vault/server.mjs": SERVER,
    });
    assert.doesNotMatch(readFileSync(join(s.repo, "apps/vault/service.sops.yaml"), "utf8"), new RegExp(TOKEN), "Git holds only ciphertext");
    const agentArgs = { json: true, extra: ["--age-key-file", keyFile] };
    const clean = (when: string): void => assert.deepEqual(filesContaining(s.state, TOKEN), [], `${when}: the token must not be in the state directory`);

    const first = s.startAgent(agentArgs);
    await s.waitForReady("vault", revision);
    const answer = await s.waitForHttp(port, (b) => b.startsWith(`token=${TOKEN} `), "the service with its decrypted token");
    const pid = Number(/pid=(\d+)/.exec(answer)?.[1]);
    clean("after the apply");

    assert.deepEqual(await first.stop(), { code: 0, signal: null }, first.output);
    clean("after the agent stopped");
    const second = s.startAgent(agentArgs);
    await s.waitForFirstRunOver(second, "vault");
    assert.deepEqual(second.events().filter((e) => e.type === "SyncStarted"), [], "the first run after the restart finds vault in sync");
    assert.equal(await httpGet(port), `token=${TOKEN} pid=${pid}`, "the same process serves the token");
    assert.deepEqual(processesIn(join(s.root, "vault")), [pid], "not restarted, not started twice");
    clean("after the agent restarted");

    // Supervised with its secret env: the restarted agent starts a killed service again with the token.
    process.kill(pid, "SIGKILL");
    const again = await s.waitForHttp(port, (b) => !b.endsWith(` pid=${pid}`), "the killed service to be started again");
    assert.match(again, new RegExp(`^token=${TOKEN} pid=\\d+$`));
    assert.equal(isRunning(pid), false);
    await second.stop();
    assert.equal(second.output.includes(TOKEN), false, "the agent's output holds no token");
    clean("at the end");
    assert.ok(filesContaining(s.state, "SyncFinished").some((f) => f.startsWith("history.db")), "the history database was searched");
  });
});

/** How many runs of an application an agent started (`-o json` events). */

function runValidate(s: Scenario): ReturnType<Scenario["ferry"]> {
  return s.ferry("validate", s.repo);
}
