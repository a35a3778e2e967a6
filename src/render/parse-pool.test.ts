import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { scaled } from "../../test/support/deadline.js";
import { generateIdentity, parseIdentity } from "../secrets/age.js";
import { decryptManifestFiles } from "../secrets/decrypt-files.js";
import { buildSopsYaml } from "../../test/support/sops-fixture.js";
import { decryptOffThread, parseOffThread } from "./parse-pool.js";
import { parseManifests } from "./parse-yaml.js";

/** Runs `work` and reports the longest the event loop went without a turn meanwhile. */
async function longestStall(work: () => Promise<void>): Promise<number> {
  let longest = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 10);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return longest;
}

describe("parsing off the main thread", () => {
  it("a large file is parsed on a worker while the event loop keeps turning; renderers then find it parsed", async () => {
    const big = { path: "apps/web/big.yaml", content: `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n${Array.from({ length: 30_000 }, (_, i) => `  k${i}: v`).join("\n")}\n` };
    const deep = { path: "apps/web/deep.yaml", content: "[".repeat(1_000_000) };
    const stall = await longestStall(() => parseOffThread([big, deep]));
    assert.ok(stall < scaled(1000), `the event loop stalled ${Math.round(stall)} ms`);
    const started = Date.now();
    const parsed = parseManifests(big);
    assert.ok(Date.now() - started < 50, "already parsed");
    assert.equal(Object.keys((parsed.documents[0]?.value.data ?? {}) as object).length, 30_000);
    assert.match(parseManifests(deep).problems[0]?.message ?? "", /nested more than 256 levels deep/);
  });

  it("a large encrypted file is decrypted on a worker, with the same result as in place", async () => {
    const owner = generateIdentity();
    const stringData = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i}`, `value-${i}`]));
    const secret = { path: "apps/web/secret.yaml", content: buildSopsYaml({ apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, stringData }, owner.recipient, { encryptedRegex: "^stringData$" }) };
    const plain = { path: "apps/web/plain.yaml", content: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n" };
    const keys = [parseIdentity(owner.identity)];
    const away = await decryptOffThread([plain, secret], keys);
    const here = decryptManifestFiles([plain, secret], keys);
    assert.deepEqual(away, here);
    assert.equal(away.files[0], plain, "a file without encrypted content stays the same object");
  });
});
