import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { generateIdentity, parseIdentity } from "./age.js";
import { decryptManifestFiles } from "./decrypt-files.js";
import { buildSopsYaml } from "../../test/support/sops-fixture.js";

const owner = generateIdentity();
const stranger = generateIdentity();
const key = [parseIdentity(owner.identity)];
const service = {
  apiVersion: "host.ferry.dev/v1",
  kind: "Service",
  metadata: { name: "web" },
  spec: { command: ["node", "server.js"], env: { DB_PASSWORD: "hunter2\nline two", PORT: 8080, DEBUG: false } },
};

describe("SOPS files encrypted with age", () => {
  test("decrypt in place: values typed, the sops block gone, every line where it was", () => {
    const text = buildSopsYaml(service, owner.recipient, { encryptedRegex: "^env$" });
    assert.match(text, /DB_PASSWORD: ENC\[AES256_GCM,data:/);
    assert.match(text, /command:\n\s+- node/, "values outside env stay in clear");
    const out = decryptManifestFiles([{ path: "apps/web/secret.yaml", content: text }], key);
    assert.deepEqual(out.problems, []);
    const [file] = out.files;
    assert.ok(file);
    assert.equal(file.content.split("\n").length, text.split("\n").length, "line count kept");
    assert.equal(file.content.split("\n").findIndex((l) => l.includes("DB_PASSWORD")), text.split("\n").findIndex((l) => l.includes("DB_PASSWORD")));
    assert.deepEqual(parse(file.content), service);
    assert.deepEqual([...(out.secret.get("apps/web/secret.yaml") ?? [])], [0]);
  });

  test("every value encrypted (no regex) also decrypts", () => {
    const text = buildSopsYaml(service, owner.recipient);
    assert.match(text, /kind: ENC\[/);
    const out = decryptManifestFiles([{ path: "s.yaml", content: text }], key);
    assert.deepEqual(out.problems, []);
    assert.deepEqual(parse(out.files[0]?.content ?? ""), service);
  });

  test("a tampered value, a changed clear value (MAC), a wrong key and no key are refused naming the file", () => {
    const text = buildSopsYaml(service, owner.recipient, { encryptedRegex: "^env$" });
    const refused = (content: string, identities = key): string => {
      const out = decryptManifestFiles([{ path: "apps/web/secret.yaml", content }], identities);
      assert.equal(out.files.length, 0, "the file is left out");
      assert.equal(out.problems.length, 1);
      return out.problems[0]?.message ?? "";
    };
    assert.match(refused(text.replace("name: web", "name: evil")), /^apps\/web\/secret\.yaml: cannot decrypt: MAC mismatch/);
    const swapped = text.replace(/(DB_PASSWORD: ENC\[AES256_GCM,data:)([A-Za-z0-9+/])/, (_m, head: string, c: string) => `${head}${c === "A" ? "B" : "A"}`);
    assert.match(refused(swapped), /^apps\/web\/secret\.yaml: cannot decrypt: spec\.env\.DB_PASSWORD: does not decrypt/);
    assert.match(refused(text, [parseIdentity(stranger.identity)]), /^apps\/web\/secret\.yaml: cannot decrypt: cannot unwrap the data key .*no identity matches/);
    assert.doesNotMatch(refused(text, [parseIdentity(stranger.identity)]), /hunter2/);
  });

  test("a value whose GCM tag was cut to 4 or 12 bytes is refused, as SOPS refuses it (16 bytes required)", () => {
    const text = buildSopsYaml(service, owner.recipient, { encryptedRegex: "^env$" });
    for (const bytes of [4, 12]) {
      const cut = text.replace(/(DB_PASSWORD: ENC\[AES256_GCM,data:[^,]*,iv:[^,]*,tag:)([^,]*)/, (_m, head: string, tag: string) => `${head}${Buffer.from(tag, "base64").subarray(0, bytes).toString("base64")}`);
      assert.notEqual(cut, text);
      for (const identities of [key, undefined]) {
        const out = decryptManifestFiles([{ path: "apps/web/secret.yaml", content: cut }], identities);
        assert.equal(out.files.length, 0, `a ${bytes}-byte tag is refused ${identities ? "with" : "without"} a key`);
        assert.match(out.problems[0]?.message ?? "", new RegExp(`^apps/web/secret\\.yaml: (cannot decrypt|encrypted content is malformed): spec\\.env\\.DB_PASSWORD: the authentication tag is ${bytes} bytes, SOPS writes and requires 16`));
      }
    }
  });

  test("without a key the structure is checked and placeholders stand in", () => {
    const text = buildSopsYaml(service, owner.recipient, { encryptedRegex: "^env$" });
    const out = decryptManifestFiles([{ path: "s.yaml", content: text }], undefined);
    assert.deepEqual(out.problems, []);
    assert.deepEqual((parse(out.files[0]?.content ?? "") as typeof service).spec.env, { DB_PASSWORD: "(encrypted)", PORT: 0, DEBUG: false });
    const broken = decryptManifestFiles([{ path: "s.yaml", content: text.replace(/DB_PASSWORD: ENC\[AES256_GCM,data:/, "DB_PASSWORD: ENC[AES128_CBC,data:") }], undefined);
    assert.match(broken.problems[0]?.message ?? "", /^s\.yaml: encrypted content is malformed: spec\.env\.DB_PASSWORD: not an ENC\[AES256_GCM/);
  });
});
