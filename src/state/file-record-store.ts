import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { AppRecord, RecordStore } from "../engine/app-record.js";

/**
 * Keeps one JSON file per application under `<stateDir>/apps`, written
 * atomically (temp file, then rename), so a crash never leaves half a record.
 */
export class FileRecordStore implements RecordStore {
  readonly #dir: string;

  constructor(stateDir: string) {
    this.#dir = join(stateDir, "apps");
  }

  async load(name: string): Promise<AppRecord | undefined> {
    try {
      return JSON.parse(await readFile(this.#path(name), "utf8")) as AppRecord;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new Error(`cannot read the record of application ${name}: ${(error as Error).message}`, { cause: error });
    }
  }

  async list(): Promise<AppRecord[]> {
    let names: string[];
    try {
      names = (await readdir(this.#dir)).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    const records = await Promise.all(names.sort().map((n) => this.load(n)));
    return records.filter((r): r is AppRecord => r !== undefined);
  }

  async save(record: AppRecord): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    const path = this.#path(record.name);
    const temp = `${path}.${process.pid}.tmp`;
    await writeFile(temp, JSON.stringify(record, null, 2) + "\n", { mode: 0o600 });
    await rename(temp, path);
  }

  async remove(name: string): Promise<void> {
    await rm(this.#path(name), { force: true });
  }

  #path(name: string): string {
    // Names are validated DNS labels by the config stage; this guards the file system anyway.
    if (!/^[a-z0-9][a-z0-9.-]*$/.test(name)) throw new Error(`invalid application name ${JSON.stringify(name)}`);
    return join(this.#dir, `${name}.json`);
  }
}
