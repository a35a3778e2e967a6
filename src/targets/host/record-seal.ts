import { createHmac, randomBytes } from "node:crypto";
import { open, readFile } from "node:fs/promises";
import path from "node:path";
import { stalled } from "../../core/errors.js";

/**
 * Turns a secret value into what the host target's records keep instead of
 * it: an HMAC-SHA256 under a random key of the state directory. Equal values
 * give equal digests, so "unchanged" and drift are still known; without the
 * key a digest cannot be checked against guessed values (a plain hash of a
 * short password can).
 */
export interface RecordSealer {
  /** `hmac-sha256:<hex>` of the value. */
  seal(value: string): string;
}

/** The prefix of every sealed value. */
export const SEALED_PREFIX = "hmac-sha256:";

const KEY_BYTES = 32;

/** The key file of a host state directory: readable by the agent's user only. */
export function recordKeyPath(stateDir: string): string {
  return path.join(stateDir, "records.key");
}

/** A sealer over a key. */
export function createRecordSealer(key: Uint8Array): RecordSealer {
  return {
    seal: (value) => SEALED_PREFIX + createHmac("sha256", key).update(value, "utf8").digest("hex"),
  };
}

/**
 * Reads the state directory's record key, creating it (32 random bytes, mode
 * 0600) on first use. Two processes over the same directory agree on it: the
 * file is created exclusively, and the loser of a race reads the winner's.
 */
export async function loadRecordSealer(stateDir: string): Promise<RecordSealer> {
  const file = recordKeyPath(stateDir);
  const created = randomBytes(KEY_BYTES);
  try {
    const handle = await open(file, "wx", 0o600);
    try {
      await handle.writeFile(created.toString("hex") + "\n");
      await handle.sync();
    } finally {
      await handle.close();
    }
    return createRecordSealer(created);
  } catch (error) {
    if ((error as { code?: unknown }).code !== "EEXIST") throw error;
  }
  // A file being written by another process right now is empty for a moment.
  for (let attempt = 0; ; attempt++) {
    const text = (await readFile(file, "utf8")).trim();
    if (/^[0-9a-f]{64}$/.test(text)) return createRecordSealer(Buffer.from(text, "hex"));
    if (text !== "" || attempt >= 20) {
      throw stalled("CorruptState", `the record key ${file} is not 64 hex digits; remove it to let ferry create a new one (services and jobs whose records hold sealed values then run again)`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
