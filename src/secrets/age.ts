import { createCipheriv, createDecipheriv, createHmac, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { decodeBech32, encodeBech32 } from "./bech32.js";

/**
 * age v1 (https://age-encryption.org/v1) with X25519 recipients, on Node's
 * crypto: X25519, HKDF-SHA256, HMAC-SHA256 and ChaCha20-Poly1305. Decrypts
 * binary and armored files; encrypts for tests and fixtures.
 */

const VERSION_LINE = "age-encryption.org/v1";
const X25519_INFO = "age-encryption.org/v1/X25519";
const CHUNK = 64 * 1024;
const TAG = 16;
const ARMOR_BEGIN = "-----BEGIN AGE ENCRYPTED FILE-----";
const ARMOR_END = "-----END AGE ENCRYPTED FILE-----";
const PKCS8_X25519 = Buffer.from("302e020100300506032b656e04220420", "hex");
const SPKI_X25519 = Buffer.from("302a300506032b656e032100", "hex");

/** Why age could not decrypt: the file is not age, no identity matches, or it was altered. */
export class AgeError extends Error {}

/** An X25519 identity (`AGE-SECRET-KEY-1...`) with its public recipient (`age1...`). */
export interface AgeIdentity {
  readonly recipient: string;
  readonly privateKey: KeyObject;
  readonly publicKey: Buffer;
}

/** Parses one `AGE-SECRET-KEY-1...` line; throws AgeError when it is not one. */
export function parseIdentity(text: string): AgeIdentity {
  const decoded = decodeBech32(text.trim());
  if (!decoded || decoded.hrp !== "age-secret-key-" || decoded.data.length !== 32) throw new AgeError("not an age X25519 identity (AGE-SECRET-KEY-1...)");
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_X25519, decoded.data]), format: "der", type: "pkcs8" });
  const publicKey = Buffer.from(createPublicKey(privateKey).export({ format: "der", type: "spki" })).subarray(-32);
  return { recipient: encodeBech32("age", publicKey), privateKey, publicKey };
}

/**
 * The identities of an age identity file (what `age-keygen` writes): one
 * `AGE-SECRET-KEY-1...` per line, `#` comments and blank lines ignored. A line
 * that is neither is an error naming its line number (never its content).
 */
export function parseIdentityFile(text: string, file: string): AgeIdentity[] {
  const identities: AgeIdentity[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    try {
      identities.push(parseIdentity(trimmed));
    } catch {
      throw new AgeError(`${file}:${i + 1}: not an age identity: expected AGE-SECRET-KEY-1... (X25519 keys only)`);
    }
  });
  if (identities.length === 0) throw new AgeError(`${file}: holds no age identity (AGE-SECRET-KEY-1...)`);
  return identities;
}

/** A new X25519 identity, as `age-keygen` makes one. */
export function generateIdentity(): { identity: string; recipient: string } {
  const { privateKey } = generateKeyPairSync("x25519");
  const raw = Buffer.from(privateKey.export({ format: "der", type: "pkcs8" })).subarray(-32);
  const identity = encodeBech32("age-secret-key-", raw).toUpperCase();
  return { identity, recipient: parseIdentity(identity).recipient };
}

/** True when the text is an armored age file (`-----BEGIN AGE ENCRYPTED FILE-----`). */
export function isArmoredAge(text: string): boolean {
  return text.trimStart().startsWith(ARMOR_BEGIN);
}

/** The binary age file inside an armored one; AgeError when the armor is broken. */
export function dearmor(text: string): Buffer {
  const trimmed = text.trim();
  if (!trimmed.startsWith(ARMOR_BEGIN) || !trimmed.endsWith(ARMOR_END)) throw new AgeError("armored age file must start with -----BEGIN AGE ENCRYPTED FILE----- and end with -----END AGE ENCRYPTED FILE-----");
  const body = trimmed.slice(ARMOR_BEGIN.length, -ARMOR_END.length).replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0) throw new AgeError("armored age file is not valid base64");
  return Buffer.from(body, "base64");
}

/** Armors a binary age file (64 columns, padded base64), as `age --armor` does. */
export function armor(binary: Buffer): string {
  const lines = binary.toString("base64").match(/.{1,64}/g) ?? [];
  return `${ARMOR_BEGIN}\n${lines.join("\n")}\n${ARMOR_END}\n`;
}

interface Stanza {
  readonly type: string;
  readonly args: readonly string[];
  readonly body: Buffer;
}

interface Header {
  readonly stanzas: readonly Stanza[];
  /** The header up to and including `---`: what the MAC covers. */
  readonly macInput: Buffer;
  readonly mac: Buffer;
  readonly payloadOffset: number;
}

/** Parses the header of a binary age file: version, stanzas, MAC. Checks structure only (no key needed). */
export function parseAgeHeader(file: Buffer): Header {
  let offset = 0;
  const line = (): string => {
    const end = file.indexOf(0x0a, offset);
    if (end === -1) throw new AgeError("age header ends early");
    const text = file.subarray(offset, end).toString("latin1");
    offset = end + 1;
    return text;
  };
  if (line() !== VERSION_LINE) throw new AgeError(`not an age v1 file (first line must be ${VERSION_LINE})`);
  const stanzas: Stanza[] = [];
  for (;;) {
    const start = offset;
    const next = line();
    if (next.startsWith("---")) {
      const macText = next.slice(4);
      if (!next.startsWith("--- ") || !/^[A-Za-z0-9+/]{43}$/.test(macText)) throw new AgeError("age header MAC line is malformed");
      return { stanzas, macInput: file.subarray(0, start + 3), mac: Buffer.from(macText, "base64"), payloadOffset: offset };
    }
    if (!next.startsWith("-> ")) throw new AgeError("age header: expected a stanza (-> ...) or the MAC (--- ...)");
    const [type, ...args] = next.slice(3).split(" ");
    if (!type) throw new AgeError("age header: stanza without a type");
    const chunks: Buffer[] = [];
    for (;;) {
      const bodyLine = line();
      if (!/^[A-Za-z0-9+/]{0,64}$/.test(bodyLine)) throw new AgeError("age header: stanza body is not unpadded base64");
      chunks.push(Buffer.from(bodyLine, "base64"));
      if (bodyLine.length < 64) break;
    }
    stanzas.push({ type, args, body: Buffer.concat(chunks) });
  }
}

function hkdf(ikm: Buffer, salt: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync("sha256", ikm, salt, info, 32));
}

function chachaOpen(key: Buffer, nonce: Buffer, sealed: Buffer): Buffer | undefined {
  if (sealed.length < TAG) return undefined;
  const decipher = createDecipheriv("chacha20-poly1305", key, nonce, { authTagLength: TAG });
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG)), decipher.final()]);
  } catch {
    return undefined;
  }
}

function chachaSeal(key: Buffer, nonce: Buffer, plain: Buffer): Buffer {
  const cipher = createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: TAG });
  return Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
}

/**
 * X25519 with a point from outside (a recipient, or a stanza's share). A
 * low-order point gives an all-zero secret: refused as age refuses it
 * ("invalid X25519 recipient"), whatever the crypto library reports.
 */
function x25519(privateKey: KeyObject, publicRaw: Buffer, what: string): Buffer {
  let shared: Buffer;
  try {
    const publicKey = createPublicKey({ key: Buffer.concat([SPKI_X25519, publicRaw]), format: "der", type: "spki" });
    shared = diffieHellman({ privateKey, publicKey });
  } catch {
    shared = Buffer.alloc(32);
  }
  if (shared.every((b) => b === 0)) throw new AgeError(`invalid X25519 ${what}: a low-order point (no shared secret can come of it)`);
  return shared;
}

function unwrapFileKey(stanza: Stanza, identity: AgeIdentity): Buffer | undefined {
  if (stanza.type !== "X25519" || stanza.args.length !== 1 || stanza.body.length !== 32) return undefined;
  const share = Buffer.from(stanza.args[0] ?? "", "base64");
  if (share.length !== 32) return undefined;
  const shared = x25519(identity.privateKey, share, "share in the file's header (the file is malformed)");
  const key = hkdf(shared, Buffer.concat([share, identity.publicKey]), X25519_INFO);
  const fileKey = chachaOpen(key, Buffer.alloc(12), stanza.body);
  return fileKey?.length === 16 ? fileKey : undefined;
}

function streamNonce(counter: number, last: boolean): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeUIntBE(counter, 5, 6);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

/**
 * Decrypts an age file (binary, or armored text) with the first identity
 * that unwraps its file key. AgeError when none does ("no identity matches"),
 * or when the header or payload was altered.
 */
export function decryptAge(input: Buffer | string, identities: readonly AgeIdentity[]): Buffer {
  const file = typeof input === "string" ? dearmor(input) : isArmoredAge(input.subarray(0, 64).toString("latin1")) ? dearmor(input.toString("latin1")) : input;
  const header = parseAgeHeader(file);
  let fileKey: Buffer | undefined;
  for (const identity of identities) {
    for (const stanza of header.stanzas) {
      fileKey = unwrapFileKey(stanza, identity);
      if (fileKey) break;
    }
    if (fileKey) break;
  }
  if (!fileKey) throw new AgeError(`no identity matches: encrypted to ${header.stanzas.filter((s) => s.type === "X25519").length} X25519 recipient(s), none of the ${identities.length} key(s) given`);
  const mac = createHmac("sha256", hkdf(fileKey, Buffer.alloc(0), "header")).update(header.macInput).digest();
  if (header.mac.length !== 32 || !timingSafeEqual(mac, header.mac)) throw new AgeError("age header MAC does not match: the file was altered");
  const nonce = file.subarray(header.payloadOffset, header.payloadOffset + 16);
  if (nonce.length !== 16) throw new AgeError("age payload ends early");
  const key = hkdf(fileKey, nonce, "payload");
  const payload = file.subarray(header.payloadOffset + 16);
  const parts: Buffer[] = [];
  let counter = 0;
  for (let at = 0; ; counter++) {
    const end = Math.min(at + CHUNK + TAG, payload.length);
    const last = end === payload.length;
    const plain = chachaOpen(key, streamNonce(counter, last), payload.subarray(at, end));
    if (!plain) throw new AgeError("age payload does not decrypt: the file was altered or truncated");
    if (last && plain.length === 0 && counter > 0) throw new AgeError("age payload ends with an empty chunk");
    parts.push(plain);
    at = end;
    if (last) break;
  }
  return Buffer.concat(parts);
}

/** Encrypts to X25519 recipients (`age1...`); armored when asked, as `age -a -r` does. */
export function encryptAge(plain: Buffer, recipients: readonly string[], options: { armor?: boolean } = {}): Buffer | string {
  const fileKey = randomBytes(16);
  const lines = [VERSION_LINE];
  for (const recipient of recipients) {
    const decoded = decodeBech32(recipient);
    if (!decoded || decoded.hrp !== "age" || decoded.data.length !== 32) throw new AgeError(`not an age recipient: ${recipient}`);
    const { privateKey, publicKey } = generateKeyPairSync("x25519");
    const share = Buffer.from(publicKey.export({ format: "der", type: "spki" })).subarray(-32);
    const shared = x25519(privateKey, decoded.data, `recipient ${recipient}`);
    const key = hkdf(shared, Buffer.concat([share, decoded.data]), X25519_INFO);
    const body = chachaSeal(key, Buffer.alloc(12), fileKey);
    lines.push(`-> X25519 ${share.toString("base64").replace(/=+$/, "")}`, ...wrap64(body.toString("base64").replace(/=+$/, "")));
  }
  const macInput = Buffer.from(`${lines.join("\n")}\n---`, "latin1");
  const mac = createHmac("sha256", hkdf(fileKey, Buffer.alloc(0), "header")).update(macInput).digest();
  const nonce = randomBytes(16);
  const key = hkdf(fileKey, nonce, "payload");
  const chunks: Buffer[] = [];
  let counter = 0;
  for (let at = 0; ; counter++) {
    const end = Math.min(at + CHUNK, plain.length);
    const last = end === plain.length;
    chunks.push(chachaSeal(key, streamNonce(counter, last), plain.subarray(at, end)));
    at = end;
    if (last) break;
  }
  const binary = Buffer.concat([macInput, Buffer.from(` ${mac.toString("base64").replace(/=+$/, "")}\n`, "latin1"), nonce, ...chunks]);
  return options.armor ? armor(binary) : binary;
}

/** Unpadded base64 in lines of 64, the last one shorter (empty when the text fills the last line). */
function wrap64(text: string): string[] {
  const lines: string[] = [...(text.match(/.{1,64}/g) ?? [])];
  if (lines.length === 0 || (lines[lines.length - 1] ?? "").length === 64) lines.push("");
  return lines;
}
