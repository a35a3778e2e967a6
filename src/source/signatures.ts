import { shortRevision } from "../core/ids.js";

/** The kinds of signature a commit can carry. */
export type SignatureFormat = "ssh" | "gpg" | "x509";

/** Which keys a verifying agent trusts; at least one is given. */
export interface SignaturePolicy {
  /** An SSH allowed-signers file (git's `gpg.ssh.allowedSignersFile` format). */
  readonly allowedSignersFile?: string;
  /** A file of exported OpenPGP public keys (binary or armored). */
  readonly gpgKeyringFile?: string;
}

/** What git said about one commit's signature: `%G?`, `%GK` (key) and `%GS` (signer). */
export interface SignatureCheck {
  readonly format: SignatureFormat | undefined;
  readonly code: string;
  readonly key: string;
  readonly signer: string;
}

/** Whether a revision may be used, and if not, why. */
export type SignatureVerdict =
  | { readonly accepted: true; readonly format: SignatureFormat; readonly signer: string; readonly key: string }
  | { readonly accepted: false; readonly message: string };

/**
 * The format of the signature in a raw commit object (`git cat-file commit`),
 * read from its `gpgsig` header; undefined when the commit is unsigned.
 */
export function signatureFormatOf(rawCommit: string): SignatureFormat | undefined {
  const headerEnd = rawCommit.indexOf("\n\n");
  const headers = headerEnd === -1 ? rawCommit : rawCommit.slice(0, headerEnd);
  const match = /^gpgsig(?:-sha256)? (-----BEGIN [A-Z ]+-----)/m.exec(headers);
  if (!match) return undefined;
  if (match[1] === "-----BEGIN SSH SIGNATURE-----") return "ssh";
  if (match[1] === "-----BEGIN PGP SIGNATURE-----") return "gpg";
  return "x509";
}

/**
 * The format of the signature of a raw annotated tag object (`git cat-file tag`):
 * git appends it to the tag's message; undefined when the tag is unsigned.
 */
export function tagSignatureFormatOf(rawTag: string): SignatureFormat | undefined {
  const headerEnd = rawTag.indexOf("\n\n");
  if (headerEnd === -1) return undefined;
  const begins = [...rawTag.slice(headerEnd).matchAll(/^-----BEGIN ([A-Z ]+)-----$/gm)];
  const last = begins.at(-1)?.[1];
  if (last === undefined) return undefined;
  if (last === "SSH SIGNATURE") return "ssh";
  if (last === "PGP SIGNATURE") return "gpg";
  return last === "SIGNED MESSAGE" ? "x509" : undefined;
}

/**
 * What `git verify-tag --raw` said, as a `%G?`-style check: exit 0 is good;
 * otherwise GnuPG's status lines or ssh-keygen's messages say why. Pure.
 */
export function tagCheckOf(format: "ssh" | "gpg", exitCode: number, stderr: string): SignatureCheck {
  if (format === "ssh") {
    const key = /key (SHA256:\S+)/.exec(stderr)?.[1] ?? "";
    const signer = /signature for (\S+) with/.exec(stderr)?.[1] ?? "";
    const code = exitCode === 0 ? "G" : /No principal matched|not in allowed signers/i.test(stderr) || /^Good "git" signature/m.test(stderr) ? "U" : "B";
    return { format, code, key, signer };
  }
  const status = /\[GNUPG:\] (GOODSIG|BADSIG|ERRSIG|EXPSIG|EXPKEYSIG|REVKEYSIG) ([0-9A-F]+)(?: (.*))?$/m.exec(stderr);
  const codes: Readonly<Record<string, string>> = { GOODSIG: "G", BADSIG: "B", ERRSIG: "E", EXPSIG: "X", EXPKEYSIG: "Y", REVKEYSIG: "R" };
  const code = exitCode === 0 ? "G" : status?.[1] === "GOODSIG" ? "U" : (codes[status?.[1] ?? ""] ?? "N");
  return { format, code, key: status?.[2] ?? "", signer: status?.[1] === "ERRSIG" ? "" : (status?.[3] ?? "") };
}

/**
 * Judges one signature against the policy (of a commit, or of the annotated
 * tag named `tag` whose object id is `revision`). Only a good signature (`%G?` = G)
 * is accepted: for SSH that means the key is in the allowed signers; for GPG
 * the key is in the agent's keyring, whose every key is trusted (so an
 * imported key reads G, and U never appears). Everything else is refused with
 * the revision, the signer where known, and what was wrong.
 */
export function judgeSignature(revision: string, check: SignatureCheck, policy: SignaturePolicy, tag?: string): SignatureVerdict {
  const subject = tag === undefined ? `revision ${shortRevision(revision)}` : `tag ${tag} (${shortRevision(revision)})`;
  const refuse = (what: string): SignatureVerdict => ({ accepted: false, message: `${subject} refused: ${what}` });
  const { format, code } = check;
  if (format === undefined) return refuse("unsigned");
  if (format === "x509") return refuse("signed with an X.509 certificate; only SSH and GPG signatures can be verified");
  if (format === "ssh" && policy.allowedSignersFile === undefined) return refuse(`signed with an SSH key (${check.key || "unknown key"}) but no --allowed-signers file is given`);
  if (format === "gpg" && policy.gpgKeyringFile === undefined) return refuse(`signed with a GPG key (${check.key || "unknown key"}) but no --gpg-keyring is given`);
  const by = describeSigner(format, check);
  switch (code) {
    case "G":
      return { accepted: true, format, signer: check.signer, key: check.key };
    case "B":
      return refuse(`bad signature (${by}): the ${tag === undefined ? "commit" : "tag"} does not match its signature`);
    case "U":
    case "E":
      return refuse(`signed by a key not in the allowed signers (${by})`);
    case "X":
      return refuse(`the signature has expired (${by})`);
    case "Y":
      return refuse(`signed by an expired key (${by})`);
    case "R":
      return refuse(`signed by a revoked key (${by})`);
    case "N":
      return refuse(`the signature could not be read (${by})`);
    default:
      return refuse(`git reported signature status ${JSON.stringify(code)} (${by})`);
  }
}

function describeSigner(format: "ssh" | "gpg", check: SignatureCheck): string {
  const key = `${format === "ssh" ? "SSH" : "GPG"} key ${check.key || "unknown"}`;
  return check.signer ? `${check.signer}, ${key}` : key;
}
