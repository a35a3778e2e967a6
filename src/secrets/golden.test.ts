import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { parse } from "yaml";
import { parseIdentityFile } from "./age.js";
import { decryptManifestFiles } from "./decrypt-files.js";

const DIR = fileURLToPath(new URL("../../../testdata/secrets/", import.meta.url));
const keyFile = `${DIR}age-key.txt`;
const sopsText = readFileSync(`${DIR}db.sops.yaml`, "utf8");
const identities = parseIdentityFile(readFileSync(keyFile, "utf8"), keyFile);

test("the committed SOPS fixture decrypts to its plain document with the committed key", () => {
  const out = decryptManifestFiles([{ path: "testdata/secrets/db.sops.yaml", content: sopsText }], identities);
  assert.deepEqual(out.problems, []);
  assert.deepEqual(parse(out.files[0]?.content ?? ""), {
    apiVersion: "host.ferry.dev/v1",
    kind: "File",
    metadata: { name: "db-config", labels: { tier: "db" } },
    spec: { path: "db/config.ini", mode: "0600", content: "[db]\npassword = correct horse battery staple\nport = 5432\n" },
    replicas_unencrypted: 2,
  });
});

test("changing a value SOPS left in clear breaks the MAC", () => {
  const out = decryptManifestFiles([{ path: "testdata/secrets/db.sops.yaml", content: sopsText.replace("replicas_unencrypted: 2", "replicas_unencrypted: 3") }], identities);
  assert.match(out.problems[0]?.message ?? "", /^testdata\/secrets\/db\.sops\.yaml: cannot decrypt: MAC mismatch/);
});

test("the age command unwraps the fixture's data key with the same key", { skip: spawnSync("age", ["--version"]).status === 0 ? false : "the age command is not installed (apt-get install age)" }, () => {
  const enc = (parse(sopsText) as { sops: { age: { enc: string }[] } }).sops.age[0]?.enc ?? "";
  assert.equal(execFileSync("age", ["-d", "-i", keyFile], { input: enc }).length, 32);
});
