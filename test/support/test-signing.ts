import { spawnSync } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { CommitSigning } from "./test-repository.js";

/** An SSH key pair made for a test, and how to sign commits with it. */
export interface TestSshKey {
  readonly privateKey: string;
  /** The public key line (`ssh-ed25519 AAAA... comment`). */
  readonly publicKey: string;
  readonly signing: CommitSigning;
}

/** Generates an ed25519 key without passphrase in `dir`. */
export async function createSshKey(dir: string, name: string): Promise<TestSshKey> {
  const privateKey = join(dir, name);
  run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", privateKey]);
  const publicKey = (await readFile(`${privateKey}.pub`, "utf8")).trim();
  return { privateKey, publicKey, signing: { config: ["-c", "gpg.format=ssh", "-c", `user.signingkey=${privateKey}`] } };
}

/** Writes an allowed-signers file naming these keys (for any principal) and returns its path. */
export async function writeAllowedSigners(file: string, keys: readonly TestSshKey[]): Promise<string> {
  await writeFile(file, keys.map((k) => `test@ferry.invalid ${k.publicKey}\n`).join(""));
  return file;
}

/** A GPG key made for a test in its own GNUPGHOME, with its public key exported. */
export interface TestGpgKey {
  readonly home: string;
  readonly fingerprint: string;
  /** File of the armored public key. */
  readonly publicKeyFile: string;
  readonly signing: CommitSigning;
  /** Stops the gpg-agent signing started. */
  close(): void;
}

/**
 * Generates an ed25519 signing key without passphrase in a new GNUPGHOME under
 * `dir`; returns the reason instead when this machine's gpg cannot do it
 * unattended (no gpg, no agent), so tests can skip and say why.
 */
export async function createGpgKey(dir: string, name: string): Promise<TestGpgKey | string> {
  const home = join(dir, `gnupg-${name}`);
  await mkdir(home, { recursive: true, mode: 0o700 });
  const env = { ...process.env, GNUPGHOME: home };
  const close = (): void => {
    spawnSync("gpgconf", ["--homedir", home, "--kill", "gpg-agent"], { stdio: "ignore" });
  };
  const generated = spawnSync("gpg", ["--batch", "--passphrase", "", "--quick-gen-key", `${name} <${name}@ferry.invalid>`, "ed25519", "sign", "never"], {
    env,
    encoding: "utf8",
    timeout: 30_000,
  });
  if (generated.error || generated.status !== 0) {
    close();
    return `gpg cannot generate a key unattended here: ${generated.error?.message ?? generated.stderr.trim().split("\n").slice(-1)[0] ?? `exit ${generated.status}`}`;
  }
  const listed = spawnSync("gpg", ["--batch", "--with-colons", "--list-keys"], { env, encoding: "utf8" });
  const fingerprint = /^fpr:+([0-9A-F]{40,64}):/m.exec(listed.stdout)?.[1];
  if (!fingerprint) {
    close();
    return "gpg generated a key but did not list its fingerprint";
  }
  const publicKeyFile = join(dir, `${name}.asc`);
  const exported = spawnSync("gpg", ["--batch", "--armor", "--export", fingerprint], { env, encoding: "utf8" });
  await writeFile(publicKeyFile, exported.stdout);
  return {
    home,
    fingerprint,
    publicKeyFile,
    signing: { config: ["-c", "gpg.format=openpgp", "-c", `user.signingkey=${fingerprint}`, "-c", "gpg.program=gpg"], env: { GNUPGHOME: home } },
    close,
  };
}

function run(command: string, args: readonly string[]): void {
  const result = spawnSync(command, args, { stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed: ${result.stderr}`);
}
