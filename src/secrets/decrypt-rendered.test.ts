import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, test } from "node:test";
import { parse, stringify } from "yaml";
import type { RenderedObject } from "../core/objects.js";
import { objectsFromOutput } from "../render/tools/tool-output.js";
import { generateIdentity, parseIdentity, parseIdentityFile } from "./age.js";
import { decryptRenderedObjects, holdsEncryptedContent } from "./decrypt-rendered.js";
import { buildSopsYaml } from "../../test/support/sops-fixture.js";
import { undecryptedContentProblems } from "./undecrypted-content.js";

const owner = generateIdentity();
const stranger = generateIdentity();
const key = [parseIdentity(owner.identity)];
const SOURCE = "apps/base/secret.yaml";
const secret = {
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name: "db" },
  type: "Opaque",
  stringData: { password: "hunter2", user: "app", port: 5432, hosts: ["a.internal", "b.internal"] },
};

type Tree = Record<string, unknown>;

/** What kustomize prints for a SOPS file: the document with its clear fields changed, values and `sops` block kept. */
function kustomized(sourceText: string, change: (doc: Tree) => void): RenderedObject[] {
  const doc = parse(sourceText) as Tree;
  change(doc);
  const result = objectsFromOutput([{ content: stringify(doc), file: "apps/prd/kustomization.yaml" }], "kustomize build apps/prd");
  assert.deepEqual(result.problems, []);
  return result.objects;
}

const prefixed = (doc: Tree): void => {
  const metadata = doc["metadata"] as Tree;
  metadata["name"] = `prd-${String(metadata["name"])}`;
  metadata["namespace"] = "prod";
  metadata["labels"] = { team: "data" };
};

describe("decrypting what kustomize rendered from SOPS files", () => {
  const text = buildSopsYaml(secret, owner.recipient, { encryptedRegex: "^(data|stringData)$" });
  const sources = [{ path: SOURCE, content: text }, { path: "apps/base/kustomization.yaml", content: "resources: [secret.yaml]\n" }];

  test("a Secret renamed by namePrefix and moved to a namespace decrypts with its source's key; the sops block is gone", () => {
    const objects = kustomized(text, prefixed);
    assert.ok(holdsEncryptedContent(objects));
    const out = decryptRenderedObjects(objects, sources, key);
    assert.deepEqual(out.problems, []);
    const [object] = out.objects;
    assert.ok(object);
    assert.deepEqual(object.manifest, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "prd-db", namespace: "prod", labels: { team: "data" } },
      type: "Opaque",
      stringData: { password: "hunter2", user: "app", port: 5432, hosts: ["a.internal", "b.internal"] },
    });
    assert.deepEqual([...out.secret], [object.key]);
    assert.deepEqual(out.sources, [SOURCE]);
    assert.deepEqual(undecryptedContentProblems(out.objects, "kustomize"), []);
  });

  test("a value moved to another path does not decrypt", () => {
    const objects = kustomized(text, (doc) => {
      prefixed(doc);
      const data = doc["stringData"] as Tree;
      data["user"] = data["password"];
    });
    const out = decryptRenderedObjects(objects, sources, key);
    assert.equal(out.objects.length, 0, "the object is left out");
    assert.equal(out.problems.length, 1);
    assert.match(out.problems[0]?.message ?? "", /^Secret\/prod\/prd-db: .*apps\/base\/secret\.yaml.*stringData\.user/);
    assert.equal(out.problems[0]?.field, "/stringData/user");
    assert.equal(out.problems[0]?.location?.file, "apps/prd/kustomization.yaml");
  });

  test("an altered value does not decrypt", () => {
    const objects = kustomized(text, (doc) => {
      const data = doc["stringData"] as Tree;
      data["password"] = String(data["password"]).replace(/data:(.)/, (_m, c: string) => `data:${c === "A" ? "B" : "A"}`);
    });
    const out = decryptRenderedObjects(objects, sources, key);
    assert.equal(out.objects.length, 0);
    assert.match(out.problems[0]?.message ?? "", /stringData\.password/);
    assert.doesNotMatch(JSON.stringify(out), /hunter2/);
  });

  test("a source whose MAC does not match is refused, naming the source file", () => {
    const objects = kustomized(text, prefixed);
    const edited = text.replace("name: db", "name: db2"); // a clear field the MAC covers
    const out = decryptRenderedObjects(objects, [{ path: SOURCE, content: edited }], key);
    assert.equal(out.objects.length, 0);
    assert.match(out.problems[0]?.message ?? "", /^apps\/base\/secret\.yaml: cannot decrypt: MAC mismatch/);
    assert.equal(out.problems[0]?.location?.file, SOURCE);
    assert.equal(out.problems[0]?.location?.line, 1);
  });

  test("a copy of the sops block on other values is refused: every source with that block is verified", () => {
    const objects = kustomized(text, prefixed);
    const forged = text.replace("name: db", "name: forged");
    const out = decryptRenderedObjects(objects, [...sources, { path: "apps/base/forged.yaml", content: forged }], key);
    assert.equal(out.objects.length, 0);
    assert.match(out.problems[0]?.message ?? "", /^apps\/base\/forged\.yaml: cannot decrypt: MAC mismatch/);
  });

  test("no key, or the wrong key, names the source file", () => {
    const objects = kustomized(text, prefixed);
    for (const identities of [[], [parseIdentity(stranger.identity)]]) {
      const out = decryptRenderedObjects(objects, sources, identities);
      assert.equal(out.objects.length, 0);
      assert.match(out.problems[0]?.message ?? "", /^apps\/base\/secret\.yaml: cannot decrypt: cannot unwrap the data key/);
    }
  });

  test("a sops block no source file holds is refused, naming the object", () => {
    const other = buildSopsYaml(secret, owner.recipient, { encryptedRegex: "^(data|stringData)$" });
    const out = decryptRenderedObjects(kustomized(other, prefixed), sources, key);
    assert.equal(out.objects.length, 0);
    assert.match(out.problems[0]?.message ?? "", /^Secret\/prod\/prd-db: it carries a sops block that matches no SOPS file/);
    assert.equal(out.problems[0]?.location?.file, "apps/prd/kustomization.yaml");
  });

  test("without a key the structure is checked and typed placeholders stand in", () => {
    const out = decryptRenderedObjects(kustomized(text, prefixed), sources, undefined);
    assert.deepEqual(out.problems, []);
    assert.deepEqual(out.objects[0]?.manifest["stringData"], { password: "(encrypted)", user: "(encrypted)", port: 0, hosts: ["(encrypted)", "(encrypted)"] });
    const broken = decryptRenderedObjects(kustomized(text, prefixed), [{ path: SOURCE, content: text.replace(/mac: ENC\[[^\]]*\]/, "mac: nonsense") }], undefined);
    assert.equal(broken.objects.length, 0);
    assert.match(broken.problems[0]?.message ?? "", /no SOPS file|malformed/);
  });

  test("objects without encrypted content pass through untouched", () => {
    const objects = kustomized("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n", () => undefined);
    assert.equal(holdsEncryptedContent(objects), false);
    const out = decryptRenderedObjects(objects, [], key);
    assert.deepEqual(out.objects, objects);
    assert.equal(out.secret.size, 0);
  });

  test("an armored age value in the output decrypts as in plain manifests", async () => {
    const { encryptAge } = await import("./age.js");
    const armored = encryptAge(Buffer.from("s3cret"), [owner.recipient], { armor: true }) as string;
    const objects = kustomized(stringify({ apiVersion: "v1", kind: "Secret", metadata: { name: "t" }, stringData: { token: armored } }), () => undefined);
    const out = decryptRenderedObjects(objects, [], key);
    assert.deepEqual(out.problems, []);
    assert.deepEqual(out.objects[0]?.manifest["stringData"], { token: "s3cret" });
    assert.equal(out.secret.size, 1);
  });
});

describe("files written by sops, passed through kustomize", () => {
  const DIR = fileURLToPath(new URL("../../../testdata/secrets/made-by-sops/", import.meta.url));
  for (const { file, keyFile, value } of [
    { file: "secret-3.9.sops.yaml", keyFile: "age-3.9.txt", value: "value" },
    { file: "secret-3.10.sops.yaml", keyFile: "age-3.10.txt", value: "global-value" },
  ]) {
    test(`${file}: renamed and moved, it decrypts to its value`, () => {
      const text = readFileSync(`${DIR}${file}`, "utf8");
      const identities = parseIdentityFile(readFileSync(`${DIR}${keyFile}`, "utf8"), keyFile);
      const out = decryptRenderedObjects(kustomized(text, prefixed), [{ path: `base/${file}`, content: text }], identities);
      assert.deepEqual(out.problems, []);
      assert.equal((out.objects[0]?.manifest["stringData"] as Tree)["key"], value);
      assert.equal(out.objects[0]?.manifest.metadata.namespace, "prod");
      assert.equal(Object.hasOwn(out.objects[0]?.manifest ?? {}, "sops"), false);
    });
  }
});

describe("the last check before apply", () => {
  const objects = (yaml: string): RenderedObject[] => objectsFromOutput([{ content: yaml, file: "charts/web/templates/secret.yaml" }], "helm template").objects;

  test("a sops block from a Helm chart is refused with the reason", () => {
    const text = buildSopsYaml(secret, owner.recipient, { encryptedRegex: "^stringData$" });
    const problems = undecryptedContentProblems(objects(text), "helm");
    assert.equal(problems.length, 1);
    assert.match(problems[0]?.message ?? "", /^Secret\/db would be applied with encrypted content at its sops block.*Helm chart output.*helm-secrets/);
    assert.equal(problems[0]?.location?.file, "charts/web/templates/secret.yaml");
  });

  test("an ENC[...] value outside a SOPS document, or inside a Secret's base64 data, is refused", () => {
    const enc = "ENC[AES256_GCM,data:AAAA,iv:AAAA,tag:AAAA,type:str]";
    const configMap = objects(`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  a: "${enc}"\n`);
    assert.equal(undecryptedContentProblems(configMap, "plain")[0]?.field, "/data/a");
    const generated = objects(`apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  app.env: ${Buffer.from(`PASSWORD=${enc}\n`).toString("base64")}\n`);
    assert.match(undecryptedContentProblems(generated, "kustomize")[0]?.message ?? "", /at \/data\/app\.env.*generator/);
    const plain = objects("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  a: aHVudGVyMg==\nstringData: {b: ENC}\n");
    assert.deepEqual(undecryptedContentProblems(plain, "kustomize"), []);
  });
});
