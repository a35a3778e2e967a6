import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SignatureCheck, SignaturePolicy } from "./signatures.js";
import { judgeSignature, signatureFormatOf } from "./signatures.js";

const REVISION = "0123456789abcdef0123456789abcdef01234567";
const BOTH: SignaturePolicy = { allowedSignersFile: "/keys/allowed", gpgKeyringFile: "/keys/pubring.asc" };

function commitWith(signature: string | undefined): string {
  const gpgsig = signature === undefined ? "" : `gpgsig -----BEGIN ${signature}-----\n line\n -----END ${signature}-----\n`;
  return `tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@x> 1 +0000\ncommitter A <a@x> 1 +0000\n${gpgsig}\nmessage\n\ngpgsig -----BEGIN SSH SIGNATURE----- in the body\n`;
}

function judge(check: Partial<SignatureCheck>, policy: SignaturePolicy = BOTH): string {
  const verdict = judgeSignature(REVISION, { format: "ssh", code: "G", key: "SHA256:abc", signer: "", ...check }, policy);
  return verdict.accepted ? "accepted" : verdict.message;
}

describe("signatureFormatOf", () => {
  it("reads the format from the gpgsig header, not from the message", () => {
    assert.equal(signatureFormatOf(commitWith("SSH SIGNATURE")), "ssh");
    assert.equal(signatureFormatOf(commitWith("PGP SIGNATURE")), "gpg");
    assert.equal(signatureFormatOf(commitWith("SIGNED MESSAGE")), "x509");
    assert.equal(signatureFormatOf(commitWith(undefined)), undefined);
  });
});

describe("judgeSignature", () => {
  it("accepts only a good signature", () => {
    assert.equal(judge({ code: "G", signer: "t@example.com" }), "accepted");
    assert.equal(judge({ format: "gpg", code: "G", key: "09E3C2E93177759F", signer: "Test <t@example.com>" }), "accepted");
  });

  it("refuses with the revision, the signer and what was wrong", () => {
    assert.equal(judge({ format: undefined, code: "N", key: "" }), "revision 01234567 refused: unsigned");
    assert.equal(judge({ code: "U" }), "revision 01234567 refused: signed by a key not in the allowed signers (SSH key SHA256:abc)");
    assert.equal(judge({ format: "gpg", code: "E", key: "09E3C2E93177759F" }), "revision 01234567 refused: signed by a key not in the allowed signers (GPG key 09E3C2E93177759F)");
    assert.equal(judge({ code: "B", signer: "t@example.com" }), "revision 01234567 refused: bad signature (t@example.com, SSH key SHA256:abc): the commit does not match its signature");
    assert.match(judge({ format: "gpg", code: "Y" }), /refused: signed by an expired key/);
    assert.match(judge({ format: "gpg", code: "X" }), /refused: the signature has expired/);
    assert.match(judge({ format: "gpg", code: "R" }), /refused: signed by a revoked key/);
    assert.match(judge({ format: "x509", code: "G" }), /refused: signed with an X\.509 certificate/);
  });

  it("refuses a format the policy has no keys for", () => {
    assert.match(judge({ format: "gpg", code: "G" }, { allowedSignersFile: "/keys/allowed" }), /signed with a GPG key .* but no --gpg-keyring is given/);
    assert.match(judge({ format: "ssh", code: "G" }, { gpgKeyringFile: "/keys/pubring.asc" }), /signed with an SSH key .* but no --allowed-signers file is given/);
  });
});
