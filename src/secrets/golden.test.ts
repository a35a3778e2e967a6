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

const MADE_BY_SOPS = `${DIR}made-by-sops/`;
const madeBySops = [
  { version: "3.9.0", file: "secret-3.9.sops.yaml", key: "age-3.9.txt", name: "age", value: "value" },
  { version: "3.10.2", file: "secret-3.10.sops.yaml", key: "age-3.10.txt", name: "global-age-secret", value: "global-value" },
];

for (const fixture of madeBySops) {
  const path = `testdata/secrets/made-by-sops/${fixture.file}`;
  const text = readFileSync(`${MADE_BY_SOPS}${fixture.file}`, "utf8");
  const keys = parseIdentityFile(readFileSync(`${MADE_BY_SOPS}${fixture.key}`, "utf8"), fixture.key);

  test(`a Secret written by sops ${fixture.version} decrypts, its MAC verified, with the key it was made for`, () => {
    const out = decryptManifestFiles([{ path, content: text }], keys);
    assert.deepEqual(out.problems, []);
    const doc = parse(out.files[0]?.content ?? "") as { kind: string; metadata: { name: string }; stringData: { key: string }; sops?: unknown };
    assert.equal(doc.kind, "Secret");
    assert.equal(doc.metadata.name, fixture.name);
    assert.deepEqual(doc.stringData, { key: fixture.value });
    assert.equal(doc.sops, undefined, "the sops block is gone");
    assert.deepEqual([...(out.secret.get(path) ?? [])], [0], "the document is marked secret");
  });

  test(`a Secret written by sops ${fixture.version}: a renamed object breaks the MAC, a wrong key names the file`, () => {
    const renamed = decryptManifestFiles([{ path, content: text.replace(`name: ${fixture.name}`, "name: other") }], keys);
    assert.equal(renamed.files.length, 0);
    assert.match(renamed.problems[0]?.message ?? "", new RegExp(`^${path.replaceAll(".", "\\.")}: cannot decrypt: MAC mismatch`));
    const wrong = decryptManifestFiles([{ path, content: text }], identities);
    assert.equal(wrong.files.length, 0);
    assert.match(wrong.problems[0]?.message ?? "", /cannot decrypt: cannot unwrap the data key/);
    assert.doesNotMatch(wrong.problems[0]?.message ?? "", new RegExp(fixture.value));
  });
}
