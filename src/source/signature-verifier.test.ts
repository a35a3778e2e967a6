import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { FerryError } from "../core/errors.js";
import { asRevision } from "../core/ids.js";
import { GitFetcher } from "./git-fetcher.js";
import { runGit } from "./git.js";
import { removeTree } from "./read-only-tree.js";
import { SignatureVerifier } from "./signature-verifier.js";
import type { SignaturePolicy } from "./signatures.js";
import { TestRepository } from "../../test/support/test-repository.js";
import type { TestGpgKey, TestSshKey } from "../../test/support/test-signing.js";
import { createGpgKey, createSshKey, writeAllowedSigners } from "../../test/support/test-signing.js";

describe("signature verification in the git fetcher", () => {
  let keys: string;
  let allowed: TestSshKey;
  let stranger: TestSshKey;
  let gpg: TestGpgKey | undefined;
  let otherGpg: TestGpgKey | undefined;
  let gpgSkip: string | undefined;
  let policy: SignaturePolicy;

  before(async () => {
    keys = await mkdtemp(join(tmpdir(), "ferry-keys-"));
    allowed = await createSshKey(keys, "allowed");
    stranger = await createSshKey(keys, "stranger");
    const allowedSignersFile = await writeAllowedSigners(join(keys, "allowed_signers"), [allowed]);
    const made = await createGpgKey(keys, "release");
    const other = await createGpgKey(keys, "other");
    if (typeof made === "string" || typeof other === "string") {
      gpgSkip = typeof made === "string" ? made : String(other);
      console.log(`skipping the GPG cases: ${gpgSkip}`);
      if (typeof made !== "string") made.close();
      if (typeof other !== "string") other.close();
    } else {
      gpg = made;
      otherGpg = other;
    }
    policy = { allowedSignersFile, ...(gpg ? { gpgKeyringFile: gpg.publicKeyFile } : {}) };
  });
  after(async () => {
    gpg?.close();
    otherGpg?.close();
    await removeTree(keys);
  });

  async function setup(ref = "main"): Promise<{ repo: TestRepository; fetcher: GitFetcher; verifier: SignatureVerifier; cleanup: () => Promise<void> }> {
    const repo = await TestRepository.create();
    const cacheDir = await mkdtemp(join(tmpdir(), "ferry-cache-"));
    const verifier = new SignatureVerifier(policy, join(cacheDir, "gnupg"));
    await verifier.prepare();
    const fetcher = new GitFetcher(repo.directory, ref, { cacheDir, verifier });
    return { repo, fetcher, verifier, cleanup: async () => (await repo.remove(), await removeTree(cacheDir)) };
  }

  async function refused(fetcher: GitFetcher): Promise<FerryError> {
    const error = await fetcher.refresh().then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof FerryError, `expected a refusal, got ${String(error)}`);
    assert.equal(error.disposition, "stalled");
    assert.equal(error.reason, "SignatureRefused");
    return error;
  }

  it("accepts a commit signed by an allowed SSH key", async () => {
    const { repo, fetcher, cleanup } = await setup();
    try {
      const head = await repo.commit({ "a.txt": "1" }, "signed", allowed.signing);
      const result = await fetcher.refresh();
      assert.equal(result.artifact.revision, head);
      assert.equal(fetcher.refusal(), undefined);
    } finally {
      await cleanup();
    }
  });

  it("refuses an unsigned commit, keeps the last accepted one, and recovers on the next signed commit", async () => {
    const { repo, fetcher, cleanup } = await setup();
    try {
      const good = await repo.commit({ "a.txt": "1" }, "signed", allowed.signing);
      await fetcher.refresh();
      const unsigned = await repo.commit({ "a.txt": "2" }, "unsigned");
      const error = await refused(fetcher);
      assert.equal(error.message, `revision ${unsigned.slice(0, 8)} refused: unsigned`);
      assert.equal(fetcher.current()?.revision, good);
      assert.equal(fetcher.refusal()?.revision, unsigned);
      // Polling again neither fetches nor verifies again: the same refusal.
      const fetches = fetcher.stats().fetches;
      assert.equal(await refused(fetcher), error);
      assert.equal(fetcher.stats().fetches, fetches);
      const next = await repo.commit({ "a.txt": "3" }, "signed again", allowed.signing);
      const result = await fetcher.refresh();
      assert.equal(result.artifact.revision, next);
      assert.equal(result.changed, true);
      assert.equal(fetcher.refusal(), undefined);
    } finally {
      await cleanup();
    }
  });

  it("refuses a commit signed by an SSH key not in the allowed signers, naming the key", async () => {
    const { repo, fetcher, cleanup } = await setup();
    try {
      const head = await repo.commit({ "a.txt": "1" }, "signed by a stranger", stranger.signing);
      const error = await refused(fetcher);
      assert.match(error.message, new RegExp(`^revision ${head.slice(0, 8)} refused: signed by a key not in the allowed signers \\(SSH key SHA256:`));
      assert.equal(fetcher.current(), undefined);
    } finally {
      await cleanup();
    }
  });

  it("refuses a commit whose content does not match its signature", async () => {
    const { repo, fetcher, cleanup } = await setup();
    try {
      const signed = await repo.commit({ "a.txt": "1" }, "the real message", allowed.signing);
      const raw = await repo.git("cat-file", "commit", signed);
      const forged = (await runGitWithInput(repo.directory, ["hash-object", "-t", "commit", "-w", "--stdin"], raw.replace("the real message", "a forged message"))).trim();
      await repo.git("update-ref", "refs/heads/main", forged);
      const error = await refused(fetcher);
      assert.match(error.message, new RegExp(`^revision ${forged.slice(0, 8)} refused: bad signature`));
    } finally {
      await cleanup();
    }
  });

  it("caches the verdict per revision", async () => {
    const { repo, fetcher, verifier, cleanup } = await setup();
    try {
      const head = asRevision(await repo.commit({ "a.txt": "1" }, "signed", allowed.signing));
      await fetcher.refresh();
      // Asked again about the same commit, it does not even look at the repository.
      const verdict = await verifier.verdict("/nonexistent", head);
      assert.equal(verdict.accepted, true);
      assert.equal(verdict.accepted && verdict.signer, "test@ferry.invalid");
    } finally {
      await cleanup();
    }
  });

  it("accepts a commit signed by a GPG key in the keyring", async (t) => {
    if (!gpg) return t.skip(gpgSkip);
    const { repo, fetcher, cleanup } = await setup();
    try {
      const head = await repo.commit({ "a.txt": "1" }, "gpg signed", gpg.signing);
      assert.equal((await fetcher.refresh()).artifact.revision, head);
    } finally {
      await cleanup();
    }
  });

  it("refuses a commit signed by a GPG key not in the keyring", async (t) => {
    if (!otherGpg) return t.skip(gpgSkip);
    const { repo, fetcher, cleanup } = await setup();
    try {
      const head = await repo.commit({ "a.txt": "1" }, "gpg signed by another", otherGpg.signing);
      const error = await refused(fetcher);
      assert.match(error.message, new RegExp(`^revision ${head.slice(0, 8)} refused: signed by a key not in the allowed signers \\(GPG key [0-9A-F]{16}\\)$`));
    } finally {
      await cleanup();
    }
  });

  it("accepts an annotated tag signed by an allowed SSH key, and refuses an unsigned or stranger-signed one until it is signed", async () => {
    const { repo, fetcher, cleanup } = await setup("v1");
    try {
      const head = await repo.commit({ "a.txt": "1" }, "signed", allowed.signing);
      await repo.tag("v1", { annotated: true });
      const unsigned = await refused(fetcher);
      assert.match(unsigned.message, /^tag v1 \([0-9a-f]{8}\) refused: unsigned$/);
      assert.equal(fetcher.current(), undefined, "nothing of the refused tag is used");
      await repo.git("tag", "-d", "v1");
      await repo.tag("v1", { signing: stranger.signing });
      const byStranger = await refused(fetcher);
      assert.match(byStranger.message, /^tag v1 \([0-9a-f]{8}\) refused: signed by a key not in the allowed signers \(SSH key SHA256:\S+\)$/);
      await repo.git("tag", "-d", "v1");
      await repo.tag("v1", { signing: allowed.signing });
      assert.equal((await fetcher.refresh()).artifact.revision, head, "the same commit under a well-signed tag is accepted");
    } finally {
      await cleanup();
    }
  });

  it("refuses a well-signed tag on an unsigned commit, and takes a lightweight tag's commit signature as it is", async () => {
    const { repo, fetcher, cleanup } = await setup("v1");
    const light = await setup("v2");
    try {
      const unsignedCommit = await repo.commit({ "a.txt": "1" }, "unsigned");
      await repo.tag("v1", { signing: allowed.signing });
      assert.match((await refused(fetcher)).message, new RegExp(`^revision ${unsignedCommit.slice(0, 8)} refused: unsigned$`));
      const signedCommit = await light.repo.commit({ "a.txt": "1" }, "signed", allowed.signing);
      await light.repo.tag("v2");
      assert.equal((await light.fetcher.refresh()).artifact.revision, signedCommit);
    } finally {
      await cleanup();
      await light.cleanup();
    }
  });

  it("refuses a tag whose content does not match its signature", async () => {
    const { repo, fetcher, cleanup } = await setup("v1");
    try {
      await repo.commit({ "a.txt": "1" }, "signed", allowed.signing);
      await repo.tag("v1", { signing: allowed.signing });
      const raw = await repo.git("cat-file", "tag", "v1");
      const forged = (await runGitWithInput(repo.directory, ["hash-object", "-w", "-t", "tag", "--stdin"], raw.replace("release v1", "release v9"))).trim();
      await repo.git("update-ref", "refs/tags/v1", forged);
      assert.match((await refused(fetcher)).message, /^tag v1 \([0-9a-f]{8}\) refused: bad signature \(.*\): the tag does not match its signature$/);
    } finally {
      await cleanup();
    }
  });

  it("accepts a tag signed by a GPG key in the keyring and refuses one signed by another", async (t) => {
    if (!gpg || !otherGpg) return t.skip(gpgSkip);
    const { repo, fetcher, cleanup } = await setup("v1");
    try {
      const head = await repo.commit({ "a.txt": "1" }, "gpg signed", gpg.signing);
      await repo.tag("v1", { signing: otherGpg.signing });
      assert.match((await refused(fetcher)).message, /^tag v1 \([0-9a-f]{8}\) refused: signed by a key not in the allowed signers \(GPG key [0-9A-F]{16}/);
      await repo.git("tag", "-d", "v1");
      await repo.tag("v1", { signing: gpg.signing });
      assert.equal((await fetcher.refresh()).artifact.revision, head);
    } finally {
      await cleanup();
    }
  });

  it("refuses a GPG keyring that holds no key", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ferry-keyring-"));
    try {
      await writeFile(join(dir, "empty.asc"), "not a key\n");
      const verifier = new SignatureVerifier({ gpgKeyringFile: join(dir, "empty.asc") }, join(dir, "gnupg"));
      await assert.rejects(verifier.prepare(), /cannot import the GPG keyring .*empty\.asc|holds no public key/);
    } finally {
      await removeTree(dir);
    }
  });
});

async function runGitWithInput(cwd: string, args: readonly string[], input: string): Promise<string> {
  const file = join(cwd, ".git", "ferry-test-input");
  await writeFile(file, input);
  return runGit([...args.filter((a) => a !== "--stdin"), file], { cwd });
}
