import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Suspension } from "../engine/status.js";

/**
 * The runtime suspensions of an agent (`ferry suspend`), kept in
 * `suspensions.json` in its state directory so they survive a restart. Git's
 * `spec.suspend` is separate: this file only overrides it towards suspended.
 */
export class SuspensionFile {
  readonly #path: string;

  constructor(stateDir: string) {
    this.#path = join(stateDir, "suspensions.json");
  }

  /** Every suspension saved; none when the file is absent. A damaged file is an error naming it. */
  async load(): Promise<Map<string, Suspension>> {
    let text: string;
    try {
      text = await readFile(this.#path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return new Map();
      throw error;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new Error(`${this.#path}: not JSON: ${(error as Error).message}`, { cause: error });
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`${this.#path}: expected an object of application names`);
    const found = new Map<string, Suspension>();
    for (const [name, entry] of Object.entries(value as Record<string, unknown>)) {
      const e = entry as Partial<Suspension> | null;
      if (!e || typeof e.by !== "string" || typeof e.at !== "string") throw new Error(`${this.#path}: ${name}: expected {"by": ..., "at": ...}`);
      found.set(name, { by: e.by, at: e.at, ...(typeof e.reason === "string" ? { reason: e.reason } : {}) });
    }
    return found;
  }

  /** Writes every suspension, atomically. */
  async save(suspensions: ReadonlyMap<string, Suspension>): Promise<void> {
    const sorted = Object.fromEntries([...suspensions.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    await mkdir(join(this.#path, ".."), { recursive: true });
    await writeFile(`${this.#path}.tmp`, JSON.stringify(sorted, null, 2) + "\n");
    await rename(`${this.#path}.tmp`, this.#path);
  }
}
