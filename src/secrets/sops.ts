import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { isMap, isScalar, isSeq } from "yaml";
import type { Document, Node, Pair, Scalar } from "yaml";
import type { AgeIdentity } from "./age.js";
import { AgeError, decryptAge, dearmor, parseAgeHeader } from "./age.js";

/**
 * SOPS documents encrypted with age (https://github.com/getsops/sops): the
 * data key is unwrapped from `sops.age[].enc`, each value
 * `ENC[AES256_GCM,data:,iv:,tag:,type:]` is decrypted with AES-256-GCM and
 * its path as additional data (`key:sub:` — sequence items keep their
 * parent's path), and the MAC is checked as SOPS does: SHA-512 over every
 * leaf value in document order (only the encrypted ones with
 * `mac_only_encrypted`), uppercase hex, stored encrypted with
 * `sops.lastmodified` as additional data.
 */

/** Why a SOPS document could not be read or decrypted; the caller names the file. */
export class SopsError extends Error {}

const ENC = /^ENC\[AES256_GCM,data:([A-Za-z0-9+/=]*),iv:([A-Za-z0-9+/=]+),tag:([A-Za-z0-9+/=]+),type:(str|int|float|bool|bytes|comment)\]$/;
/** The AES-GCM tag length SOPS uses (Go's standard GCM); shorter tags are refused. */
const GCM_TAG_BYTES = 16;
/** sha256("sops"): what SOPS hashes first when the MAC covers only encrypted values. */
const MAC_ONLY_ENCRYPTED_INIT = Buffer.from("8a3fd2ad54ce66527b1034f3d147be0b0b975b3bf44f72c6fdadec8176f27d69", "hex");

/** A leaf value as SOPS types it. */
export type SopsValue = string | number | boolean;

/** A text change that turns the encrypted document into the plain one, keeping every line where it was. */
export interface Replacement {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

interface Metadata {
  readonly recipients: readonly { readonly recipient: string; readonly enc: string }[];
  readonly lastModified: string;
  readonly mac: string;
  readonly macOnlyEncrypted: boolean;
  readonly shouldEncrypt: (path: readonly string[]) => boolean;
}

/** True when the document is a mapping with a top-level `sops` key. */
export function isSopsDocument(doc: Document): boolean {
  return isMap(doc.contents) && doc.contents.items.some((p) => isScalar(p.key) && p.key.value === "sops");
}

/**
 * Decrypts one SOPS document in place, as text replacements over `source`
 * (the `sops` block becomes blank lines, each ENC[...] its value). With no
 * identities, checks the structure only (metadata, every ENC[...], the age
 * stanzas) and puts typed placeholders in place of the values.
 */
export function decryptSopsDocument(doc: Document, source: string, identities: readonly AgeIdentity[] | undefined): Replacement[] {
  return openSopsDocument(doc, source, identities).replacements;
}

/** A SOPS document whose MAC was verified (or, without a key, whose structure was checked). */
export interface OpenedSopsDocument {
  /** The text changes that decrypt it (see decryptSopsDocument). */
  readonly replacements: Replacement[];
  /** The file's data key; undefined when no identities were given. */
  readonly dataKey: Buffer | undefined;
  /** Every ENC[...] value of the document, by the path SOPS authenticates it with (`stringData:password:`). */
  readonly encrypted: ReadonlyMap<string, ReadonlySet<string>>;
}

/**
 * Decrypts and verifies one SOPS document (see decryptSopsDocument) and also
 * returns its data key and its encrypted values, so that a copy of the
 * document another tool rewrote can be decrypted value by value.
 */
export function openSopsDocument(doc: Document, source: string, identities: readonly AgeIdentity[] | undefined): OpenedSopsDocument {
  const root = doc.contents;
  if (!isMap(root)) throw new SopsError("a SOPS document must be a mapping");
  const sopsPair = root.items.find((p) => isScalar(p.key) && p.key.value === "sops");
  if (!sopsPair) throw new SopsError("no sops metadata");
  const meta = metadataOf((sopsPair.value as Node | null)?.toJSON() as unknown);
  const dataKey = identities ? unwrapDataKey(meta, identities) : checkRecipients(meta);
  const replacements: Replacement[] = [];
  const values = new Map<string, Set<string>>();
  const hash = createHash("sha512");
  if (meta.macOnlyEncrypted) hash.update(MAC_ONLY_ENCRYPTED_INIT);
  const visit = (node: unknown, path: readonly string[]): void => {
    if (isMap(node)) {
      for (const pair of node.items as Pair[]) {
        if (node === root && pair === sopsPair) continue;
        const key = isScalar(pair.key) ? pair.key.value : undefined;
        if (typeof key !== "string") throw new SopsError("SOPS documents have string keys only");
        visit(pair.value, [...path, key]);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) visit(item, path);
    } else if (isScalar(node)) {
      const leaf = node as Scalar;
      if (leaf.value === null || leaf.value === undefined) return;
      const encrypted = meta.shouldEncrypt(path);
      let value: SopsValue;
      if (encrypted) {
        if (typeof leaf.value !== "string") throw new SopsError(`${path.join(".")}: expected an ENC[AES256_GCM,...] value`);
        value = dataKey ? decryptValue(leaf.value, dataKey, sopsPath(path), path) : placeholder(leaf.value, path);
        const seen = values.get(sopsPath(path)) ?? new Set<string>();
        values.set(sopsPath(path), seen.add(leaf.value));
        const range = leaf.range;
        if (!range) throw new SopsError(`${path.join(".")}: no position`);
        replacements.push({ start: range[0], end: range[1], text: valueText(value) });
      } else {
        if (typeof leaf.value !== "string" && typeof leaf.value !== "number" && typeof leaf.value !== "boolean") throw new SopsError(`${path.join(".")}: unsupported value`);
        value = leaf.value;
      }
      if (!meta.macOnlyEncrypted || encrypted) hash.update(toBytes(value));
    } else if (node !== null && node !== undefined) {
      throw new SopsError(`${path.join(".")}: aliases are not supported in SOPS documents`);
    }
  };
  visit(root, []);
  if (dataKey) {
    const stored = decryptValue(meta.mac, dataKey, meta.lastModified, ["sops", "mac"]);
    const computed = hash.digest("hex").toUpperCase();
    if (typeof stored !== "string" || stored.length !== computed.length || !timingSafeEqual(Buffer.from(stored), Buffer.from(computed))) {
      throw new SopsError("MAC mismatch: the file was altered after SOPS encrypted it (sops.mac does not match its values)");
    }
  } else if (!ENC.test(meta.mac)) throw new SopsError("sops.mac is not an ENC[AES256_GCM,...] value");
  // The sops block becomes as many empty lines: later lines keep their numbers.
  const start = (sopsPair.key as Node).range?.[0];
  const end = (sopsPair.value as Node | null)?.range?.[2];
  if (start === undefined || end === undefined) throw new SopsError("sops metadata has no position");
  replacements.push({ start, end, text: source.slice(start, end).replace(/[^\n]/g, "") });
  return { replacements, dataKey, encrypted: values };
}

/** The additional data SOPS binds a value to: its keys joined by `:`, with a trailing `:` (`stringData:password:`). */
export function sopsPath(path: readonly string[]): string {
  return `${path.join(":")}:`;
}

/** True for a string shaped as a SOPS `ENC[AES256_GCM,...]` value. */
export function isSopsValue(text: string): boolean {
  return ENC.test(text);
}

/**
 * Decrypts one `ENC[AES256_GCM,...]` value with a data key and the path it
 * must sit at; a value moved to another path, altered, or encrypted with
 * another key does not decrypt. Without a key, checks its shape and returns a
 * placeholder of its type.
 */
export function decryptSopsValue(text: string, dataKey: Buffer | undefined, path: readonly string[]): SopsValue {
  return dataKey ? decryptValue(text, dataKey, sopsPath(path), path) : placeholder(text, path);
}

/**
 * What identifies a `sops` block: its MAC and its age stanzas. Two documents
 * with the same one were encrypted together (the same file, maybe rewritten
 * by a tool). Undefined when the block is not one Ferry reads.
 */
export function sopsBlockIdentity(block: unknown): string | undefined {
  let meta: Metadata;
  try {
    meta = metadataOf(block);
  } catch {
    return undefined;
  }
  return JSON.stringify([meta.mac, ...meta.recipients.map((r) => r.enc.trim()).sort()]);
}

function metadataOf(value: unknown): Metadata {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new SopsError("sops metadata is not a mapping");
  const m = value as Record<string, unknown>;
  if (Array.isArray(m.key_groups) && m.key_groups.length > 0) throw new SopsError("SOPS key groups (Shamir) are not supported: encrypt to age recipients directly");
  const age = Array.isArray(m.age) ? m.age : [];
  const recipients = age.flatMap((r: unknown) => {
    const e = r as { recipient?: unknown; enc?: unknown } | null;
    return e && typeof e.recipient === "string" && typeof e.enc === "string" ? [{ recipient: e.recipient, enc: e.enc }] : [];
  });
  if (recipients.length === 0) throw new SopsError("sops.age lists no recipient: only SOPS files encrypted with age are supported");
  if (typeof m.lastmodified !== "string") throw new SopsError("sops.lastmodified is missing");
  if (typeof m.mac !== "string") throw new SopsError("sops.mac is missing");
  const text = (key: string): string | undefined => (typeof m[key] === "string" && m[key] !== "" ? (m[key] as string) : undefined);
  const regex = (key: string): RegExp | undefined => {
    const source = text(key);
    if (source === undefined) return undefined;
    try {
      return new RegExp(source);
    } catch {
      throw new SopsError(`sops.${key} is not a regular expression Ferry can use`);
    }
  };
  const unencryptedSuffix = text("unencrypted_suffix");
  const encryptedSuffix = text("encrypted_suffix");
  const unencryptedRegex = regex("unencrypted_regex");
  const encryptedRegex = regex("encrypted_regex");
  if (text("unencrypted_comment_regex") !== undefined || text("encrypted_comment_regex") !== undefined) {
    throw new SopsError("sops comment regexes are not supported: Ferry does not read YAML comments");
  }
  // As SOPS decides it: the suffix and regex rules in this order, each over every key of the path.
  const shouldEncrypt = (path: readonly string[]): boolean => {
    let encrypted = true;
    if (unencryptedSuffix !== undefined && path.some((k) => k.endsWith(unencryptedSuffix))) encrypted = false;
    if (encryptedSuffix !== undefined) encrypted = path.some((k) => k.endsWith(encryptedSuffix));
    if (unencryptedRegex && path.some((k) => unencryptedRegex.test(k))) encrypted = false;
    if (encryptedRegex) encrypted = path.some((k) => encryptedRegex.test(k));
    return encrypted;
  };
  return { recipients, lastModified: m.lastmodified, mac: m.mac, macOnlyEncrypted: m.mac_only_encrypted === true, shouldEncrypt };
}

function unwrapDataKey(meta: Metadata, identities: readonly AgeIdentity[]): Buffer {
  const errors: string[] = [];
  for (const { enc } of meta.recipients) {
    try {
      const key = decryptAge(enc, identities);
      if (key.length !== 32) throw new SopsError("the data key is not 32 bytes");
      return key;
    } catch (error) {
      errors.push(error instanceof AgeError || error instanceof SopsError ? error.message : String(error));
    }
  }
  throw new SopsError(`cannot unwrap the data key with the age key given (recipients: ${meta.recipients.map((r) => r.recipient).join(", ")}): ${errors[0] ?? ""}`);
}

function checkRecipients(meta: Metadata): undefined {
  for (const { enc } of meta.recipients) {
    try {
      parseAgeHeader(dearmor(enc));
    } catch (error) {
      throw new SopsError(`sops.age: ${(error as Error).message}`);
    }
  }
  return undefined;
}

function decryptValue(text: string, key: Buffer, aad: string, path: readonly string[]): SopsValue {
  const match = ENC.exec(text);
  if (!match) throw new SopsError(`${path.join(".")}: not an ENC[AES256_GCM,data:...,iv:...,tag:...,type:...] value`);
  const [, data = "", iv = "", tag = "", type = "str"] = match;
  const authTag = fullTag(tag, path);
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64"), { authTagLength: GCM_TAG_BYTES });
  decipher.setAAD(Buffer.from(aad, "utf8"));
  decipher.setAuthTag(authTag);
  let plain: string;
  try {
    plain = Buffer.concat([decipher.update(Buffer.from(data, "base64")), decipher.final()]).toString("utf8");
  } catch {
    throw new SopsError(`${path.join(".")}: does not decrypt (wrong key, or the value or its place in the file was altered)`);
  }
  switch (type) {
    case "int":
    case "float": {
      const n = Number(plain);
      if (!Number.isFinite(n)) throw new SopsError(`${path.join(".")}: not a number`);
      return n;
    }
    case "bool":
      return plain.toLowerCase() === "true";
    default:
      return plain;
  }
}

/**
 * The GCM tag as SOPS writes and requires it: 16 bytes. Node would accept a
 * 4- to 15-byte tag, which leaves far fewer bits to forge.
 */
function fullTag(text: string, path: readonly string[]): Buffer {
  const tag = Buffer.from(text, "base64");
  if (tag.length !== GCM_TAG_BYTES) throw new SopsError(`${path.join(".")}: the authentication tag is ${tag.length} bytes, SOPS writes and requires ${GCM_TAG_BYTES}: the value was truncated or altered`);
  return tag;
}

/** Without a key: the ENC[...] is checked, and a value of its type stands in. */
function placeholder(text: string, path: readonly string[]): SopsValue {
  const match = ENC.exec(text);
  if (!match) throw new SopsError(`${path.join(".")}: not an ENC[AES256_GCM,data:...,iv:...,tag:...,type:...] value`);
  fullTag(match[3] ?? "", path);
  const type = match[4];
  return type === "int" || type === "float" ? 0 : type === "bool" ? false : "(encrypted)";
}

/** The bytes SOPS hashes for a value (Go's strconv formatting; booleans as True/False). */
function toBytes(value: SopsValue): Buffer {
  if (typeof value === "boolean") return Buffer.from(value ? "True" : "False");
  return Buffer.from(String(value), "utf8");
}

function valueText(value: SopsValue): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/** Encrypts one value as SOPS writes it (tests and fixtures use this to build SOPS files). */
export function encryptSopsValue(value: SopsValue, key: Buffer, aad: string): string {
  const iv = randomBytes(32);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(aad, "utf8"));
  const plain = typeof value === "boolean" ? (value ? "True" : "False") : String(value);
  const data = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
  const type = typeof value === "string" ? "str" : typeof value === "boolean" ? "bool" : Number.isInteger(value) ? "int" : "float";
  return `ENC[AES256_GCM,data:${data.toString("base64")},iv:${iv.toString("base64")},tag:${cipher.getAuthTag().toString("base64")},type:${type}]`;
}

/** SOPS's MAC over plain leaf values in document order (for building fixtures). */
export function sopsMac(values: readonly SopsValue[]): string {
  const hash = createHash("sha512");
  for (const v of values) hash.update(toBytes(v));
  return hash.digest("hex").toUpperCase();
}
