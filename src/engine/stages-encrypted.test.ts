import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { chmod } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import type { FerryError } from "../core/errors.js";
import { formatProblem } from "../core/errors.js";
import { ANNOTATIONS } from "../core/objects.js";
import type { RenderResult } from "../render/renderer.js";
import { renderDigest } from "../render/render.js";
import { RenderCache } from "../render/render-source.js";
import { findExecutable } from "../render/tools/find-tool.js";
import { generateIdentity, parseIdentity, parseIdentityFile } from "../secrets/age.js";
import { buildSopsYaml } from "../../test/support/sops-fixture.js";
import { validateRepository } from "../validate/validate-repository.js";
import { testArtifacts } from "../../test/support/stage-test-support.js";
import { renderStage } from "./stages.js";

const artifact = testArtifacts("ferry-stage-sops-", "b");

/** A cache that remembers what it was given to keep. */
class RecordingCache extends RenderCache {
  readonly stored: RenderResult[] = [];
  override set(digest: string, result: RenderResult): void {
    this.stored.push(result);
    super.set(digest, result);
  }
}

const owner = generateIdentity();
const key = [parseIdentity(owner.identity)];
const MADE_BY_SOPS = fileURLToPath(new URL("../../../testdata/secrets/made-by-sops/", import.meta.url));
const sopsKey = parseIdentityFile(readFileSync(`${MADE_BY_SOPS}age-3.10.txt`, "utf8"), "age-3.10.txt");
const PASSWORD = "kustomized-hunter2";
const dbSecret = buildSopsYaml(
  { apiVersion: "v1", kind: "Secret", metadata: { name: "db" }, type: "Opaque", stringData: { password: PASSWORD, port: "5432" } },
  owner.recipient,
  { encryptedRegex: "^(data|stringData)$" },
);
// bases, namespace and namePrefix: read alike by the kustomize of kubectl 1.20 and by kustomize v5.
const TREE = {
  "apps/base/kustomization.yaml": "resources: [secret.yaml, cm.yaml]\n",
  "apps/base/secret.yaml": dbSecret,
  "apps/base/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata: {mode: prod}\n",
  "apps/prd/kustomization.yaml": "bases: [../base]\nnamespace: prod\nnamePrefix: prd-\n",
};

const kustomizeTool = (await findExecutable(["kustomize"])) ?? (await findExecutable(["kubectl"]));
const noKustomize = kustomizeTool ? false : "neither kustomize nor kubectl is installed (install kustomize, or kubectl)";
const noHelm = (await findExecutable(["helm"])) ? false : "helm is not installed (install helm 3)";

describe("renderStage with SOPS files in a kustomization", { skip: noKustomize }, () => {
  it("decrypts the Secret kustomize renamed and moved, marks it secret, and keeps only ciphertext in the cache and the digest", async () => {
    const cache = new RecordingCache();
    const rendered = await renderStage(await artifact(TREE), "apps/prd", { cache, identities: key });
    const secret = rendered.objects.find((o) => o.manifest.kind === "Secret");
    assert.ok(secret, "the Secret is rendered");
    assert.equal(secret.manifest.metadata.name, "prd-db");
    assert.equal(secret.manifest.metadata.namespace, "prod");
    assert.deepEqual(secret.manifest["stringData"], { password: PASSWORD, port: "5432" });
    assert.equal(Object.hasOwn(secret.manifest, "sops"), false);
    assert.equal(secret.manifest.metadata.annotations?.[ANNOTATIONS.secret], "true");
    const configMap = rendered.objects.find((o) => o.manifest.kind === "ConfigMap");
    assert.equal(configMap?.manifest.metadata.annotations?.[ANNOTATIONS.secret], undefined, "clear objects stay unmarked");
    assert.equal(cache.stored.length, 1);
    const cached = JSON.stringify(cache.stored);
    assert.doesNotMatch(cached, new RegExp(PASSWORD));
    assert.match(cached, /ENC\[AES256_GCM,/);

    // From the cache, it decrypts again; the digest does not follow the plain value.
    const again = await renderStage(await artifact(TREE), "apps/prd", { cache, identities: key });
    assert.equal(cache.stored.length, 1, "the second render came from the cache");
    assert.deepEqual(again.objects.find((o) => o.manifest.kind === "Secret")?.manifest["stringData"], { password: PASSWORD, port: "5432" });
    assert.equal(again.digest, rendered.digest);
    assert.equal(rendered.digest, renderDigest(cache.stored[0]?.objects ?? []), "the digest is that of the encrypted render");
  });

  it("decrypts a file written by sops itself", async () => {
    const tree = {
      "base/kustomization.yaml": "resources: [secret.yaml]\n",
      "base/secret.yaml": readFileSync(`${MADE_BY_SOPS}secret-3.10.sops.yaml`, "utf8"),
      "prd/kustomization.yaml": "bases: [../base]\nnamespace: prod\nnamePrefix: prd-\n",
    };
    const rendered = await renderStage(await artifact(tree), "prd", { cache: new RenderCache(), identities: sopsKey });
    assert.deepEqual(rendered.objects[0]?.manifest["stringData"], { key: "global-value" });
    assert.equal(rendered.objects[0]?.manifest.metadata.name, "prd-global-age-secret");
  });

  const stalls = async (files: Record<string, string>, identities: ReturnType<typeof parseIdentity>[], pattern: RegExp): Promise<void> => {
    await assert.rejects(renderStage(await artifact(files), "apps/prd", { cache: new RenderCache(), identities }), (error: FerryError) => {
      assert.equal(error.disposition, "stalled");
      assert.equal(error.reason, "DecryptionFailed");
      assert.match(error.message, pattern);
      assert.doesNotMatch(error.message, new RegExp(PASSWORD));
      return true;
    });
  };

  it("stalls with DecryptionFailed naming the source file without a key, or with a wrong one", async () => {
    await stalls(TREE, [], /apps\/base\/secret\.yaml:1:1: apps\/base\/secret\.yaml: cannot decrypt: cannot unwrap the data key.*this agent has no age key/);
    await stalls(TREE, [parseIdentity(generateIdentity().identity)], /apps\/base\/secret\.yaml.*cannot unwrap the data key/);
  });

  it("stalls when the source file was edited after sops encrypted it", async () => {
    await stalls({ ...TREE, "apps/base/secret.yaml": dbSecret.replace("name: db", "name: db-edited") }, key, /apps\/base\/secret\.yaml: cannot decrypt: MAC mismatch/);
  });

  it("stalls when a patch puts an encrypted value at another path", async () => {
    const moved = dbSecret.match(/password: (ENC\[[^\]]*\])/)?.[1] ?? "";
    const tree = {
      ...TREE,
      "apps/prd/kustomization.yaml": `${TREE["apps/prd/kustomization.yaml"]}patchesStrategicMerge:\n  - move.yaml\n`,
      "apps/prd/move.yaml": `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  user: ${moved}\n`,
    };
    await stalls(tree, key, /Secret\/prod\/prd-db: .*stringData\.user/);
  });
});

describe("ferry validate on SOPS files in a kustomization (no key)", { skip: noKustomize }, () => {
  const APP = "apiVersion: ferry.dev/v1\nkind: Application\nmetadata:\n  name: web\nspec:\n  target: kubernetes\n  source:\n    path: apps/prd\n";

  it("checks the structure, counts the source file, and reports no problem", async () => {
    const repo = await artifact({ ...TREE, "ferry/apps.yaml": APP });
    const report = await validateRepository(repo.directory, { render: { cache: new RenderCache() } });
    assert.deepEqual(report.problems.map(formatProblem), []);
    assert.equal(report.encryptedFiles, 1);
  });

  it("names the source file whose sops block is damaged", async () => {
    const damaged = dbSecret.replace(/(enc: \|\n\s+-----BEGIN AGE ENCRYPTED FILE-----\n\s+)\S+/, "$1AAAA");
    assert.notEqual(damaged, dbSecret);
    const repo = await artifact({ ...TREE, "apps/base/secret.yaml": damaged, "ferry/apps.yaml": APP });
    const report = await validateRepository(repo.directory, { render: { cache: new RenderCache() } });
    assert.equal(report.problems.length, 1, report.problems.map(formatProblem).join("\n"));
    assert.match(formatProblem(report.problems[0] ?? { severity: "error", message: "" }), /^apps\/base\/secret\.yaml:1:1: apps\/base\/secret\.yaml: encrypted content is malformed: sops\.age/);
  });
});

describe("renderStage with helm output holding a SOPS document", () => {
  it("refuses to apply ciphertext a chart printed (a helm that prints a template, as helm template does)", async () => {
    const repo = await artifact({
      "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
      "charts/web/templates/secret.yaml": dbSecret,
      "tools/helm": `#!/bin/sh\nprintf -- '---\\n# Source: web/templates/secret.yaml\\n'\ncat "$3/templates/secret.yaml"\n`,
    });
    await chmod(join(repo.directory, "tools/helm"), 0o755);
    const tools = { helm: join(repo.directory, "tools/helm") };
    await assert.rejects(renderStage(repo, "charts/web", { cache: new RenderCache(), identities: key, tools }), (error: FerryError) => {
      assert.equal(error.reason, "DecryptionFailed");
      assert.match(error.message, /charts\/web\/templates\/secret\.yaml:1:1: sops: Secret\/db would be applied with encrypted content at its sops block.*Helm chart output/);
      return true;
    });
  });
});

describe("renderStage with a Helm chart holding SOPS documents", { skip: noHelm }, () => {
  it("refuses to apply ciphertext, saying Helm output is not decrypted", async () => {
    const files = {
      "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
      "charts/web/templates/secret.yaml": dbSecret.replace(/\{\{|\}\}/g, ""),
    };
    await assert.rejects(renderStage(await artifact(files), "charts/web", { cache: new RenderCache(), identities: key }), (error: FerryError) => {
      assert.equal(error.reason, "DecryptionFailed");
      assert.match(error.message, /Helm chart output/);
      return true;
    });
  });
});
