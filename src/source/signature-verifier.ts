import { spawn } from "node:child_process";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stalled } from "../core/errors.js";
import type { Revision } from "../core/ids.js";
import { asRevision } from "../core/ids.js";
import { execGit, runGit } from "./git.js";
import type { SignaturePolicy, SignatureVerdict } from "./signatures.js";
import { judgeSignature, signatureFormatOf, tagCheckOf, tagSignatureFormatOf } from "./signatures.js";

/** Checks a commit before the source produces an artifact of it. */
export interface CommitVerifier {
  /** Resolves when the commit (present in the bare repository `gitDir`) may be used; throws a stalled `SignatureRefused` otherwise. */
  verify(gitDir: string, revision: Revision): Promise<void>;
  /**
   * Resolves when the annotated tag `name` (its object `tagObject`, present in
   * `gitDir`) carries a good signature; throws a stalled `SignatureRefused` otherwise.
   */
  verifyTag?(gitDir: string, tagObject: string, name: string): Promise<void>;
}

/** Reason of the error a refused revision raises. */
export const SIGNATURE_REFUSED = "SignatureRefused";

/**
 * Verifies commit signatures with the git CLI against the agent's policy:
 * SSH signatures against an allowed-signers file, GPG signatures against a
 * private GNUPGHOME holding only the given keyring. Verdicts are cached per
 * revision: a commit id covers its signature, so it never changes.
 */
export class SignatureVerifier implements CommitVerifier {
  readonly policy: SignaturePolicy;
  readonly #gnupgHome: string;
  readonly #verdicts = new Map<Revision, Promise<SignatureVerdict>>();
  #prepared: Promise<void> | undefined;

  /** `gnupgHome` is a directory this verifier owns: it is emptied and filled with the keyring. */
  constructor(policy: SignaturePolicy, gnupgHome: string) {
    if (policy.allowedSignersFile === undefined && policy.gpgKeyringFile === undefined) {
      throw new Error("signature verification needs an allowed-signers file or a GPG keyring");
    }
    this.policy = policy;
    this.#gnupgHome = gnupgHome;
  }

  /** Imports the GPG keyring (once); call at start so a bad keyring stops the agent instead of every source. */
  prepare(): Promise<void> {
    this.#prepared ??= this.#importKeyring();
    this.#prepared.catch(() => {
      this.#prepared = undefined;
    });
    return this.#prepared;
  }

  async verify(gitDir: string, revision: Revision): Promise<void> {
    const verdict = await this.verdict(gitDir, revision);
    if (!verdict.accepted) throw stalled(SIGNATURE_REFUSED, verdict.message);
  }

  async verifyTag(gitDir: string, tagObject: string, name: string): Promise<void> {
    const verdict = await this.verdict(gitDir, asRevision(tagObject), name);
    if (!verdict.accepted) throw stalled(SIGNATURE_REFUSED, verdict.message);
  }

  /** The verdict on one revision (or, with `tag`, on that annotated tag's object), computed once. */
  verdict(gitDir: string, revision: Revision, tag?: string): Promise<SignatureVerdict> {
    let verdict = this.#verdicts.get(revision);
    if (!verdict) {
      verdict = tag === undefined ? this.#check(gitDir, revision) : this.#checkTag(gitDir, revision, tag);
      this.#verdicts.set(revision, verdict);
      // A failure to run git or gpg says nothing about the commit: ask again next time.
      verdict.catch(() => this.#verdicts.delete(revision));
    }
    return verdict;
  }

  async #check(gitDir: string, revision: Revision): Promise<SignatureVerdict> {
    await this.prepare();
    const raw = await runGit([`--git-dir=${gitDir}`, "cat-file", "commit", revision]);
    const format = signatureFormatOf(raw);
    if (format === undefined || format === "x509") return judgeSignature(revision, { format, code: "N", key: "", signer: "" }, this.policy);
    const config = ["-c", `gpg.format=${format === "ssh" ? "ssh" : "openpgp"}`];
    if (this.policy.allowedSignersFile !== undefined) config.push("-c", `gpg.ssh.allowedSignersFile=${this.policy.allowedSignersFile}`);
    const output = await runGit([...config, `--git-dir=${gitDir}`, "log", "-1", "--no-walk", "--format=%G?%x00%GK%x00%GS", revision, "--"], {
      env: { GNUPGHOME: this.#gnupgHome },
    });
    const [code = "", key = "", signer = ""] = output.replace(/\n$/, "").split("\0");
    return judgeSignature(revision, { format, code, key, signer }, this.policy);
  }

  async #checkTag(gitDir: string, tagObject: string, name: string): Promise<SignatureVerdict> {
    await this.prepare();
    const raw = await runGit([`--git-dir=${gitDir}`, "cat-file", "tag", tagObject]);
    const format = tagSignatureFormatOf(raw);
    if (format === undefined || format === "x509") return judgeSignature(tagObject, { format, code: "N", key: "", signer: "" }, this.policy, name);
    const config = ["-c", `gpg.format=${format === "ssh" ? "ssh" : "openpgp"}`];
    if (this.policy.allowedSignersFile !== undefined) config.push("-c", `gpg.ssh.allowedSignersFile=${this.policy.allowedSignersFile}`);
    const result = await execGit([...config, `--git-dir=${gitDir}`, "verify-tag", "--raw", tagObject], { env: { GNUPGHOME: this.#gnupgHome, LC_ALL: "C" } });
    return judgeSignature(tagObject, tagCheckOf(format, result.code, result.stderr), this.policy, name);
  }

  async #importKeyring(): Promise<void> {
    const keyring = this.policy.gpgKeyringFile;
    if (keyring === undefined) return;
    // Rebuilt at every start, so a key taken out of the file is no longer trusted.
    await rm(this.#gnupgHome, { recursive: true, force: true });
    await mkdir(this.#gnupgHome, { recursive: true, mode: 0o700 });
    // The keyring is the list of allowed keys: each key in it is trusted as it is, no web of trust.
    // No agent is needed to verify, and none is left running.
    await writeFile(join(this.#gnupgHome, "gpg.conf"), "trust-model always\nno-autostart\n", { mode: 0o600 });
    const { code, stderr } = await runGpg(["--batch", "--no-autostart", "--import", keyring], this.#gnupgHome);
    const imported = /imported: (\d+)|unchanged: (\d+)/.exec(stderr);
    if (code !== 0 && !imported) {
      const detail = stderr.split("\n").map((l) => l.trim()).filter((l) => l !== "").slice(-2).join("; ");
      throw stalled("KeyringInvalid", `cannot import the GPG keyring ${keyring}: ${detail || `gpg exited with ${code}`}`);
    }
    if (!imported) throw stalled("KeyringInvalid", `the GPG keyring ${keyring} holds no public key`);
  }
}

function runGpg(args: readonly string[], home: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("gpg", ["--homedir", home, ...args], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, LC_ALL: "C" } });
    const stderr: Buffer[] = [];
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", (error: NodeJS.ErrnoException) =>
      reject(error.code === "ENOENT" ? stalled("GpgNotFound", "gpg not found on PATH; install GnuPG to verify GPG signatures", { cause: error }) : error),
    );
    child.on("close", (code) => resolve({ code: code ?? -1, stderr: Buffer.concat(stderr).toString("utf8") }));
  });
}
