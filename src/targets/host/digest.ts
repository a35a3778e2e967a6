import { createHash } from "node:crypto";
import { canonicalJson } from "../../core/json.js";

/** sha256 (hex) of a value's canonical JSON: equal specs give equal digests whatever their key order. */
export function digestOf(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}

/** sha256 of text or bytes, as lowercase hex. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}
