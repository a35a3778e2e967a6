import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { stalled } from "../../core/errors.js";
import { isTemporaryOf, writeFileAtomic } from "./atomic-write.js";
import type { HostKind } from "./host-schemas.js";

/**
 * The host target's own records under its state directory, one JSON file per
 * object (`records/<kind>/<name>.json`), written atomically so a crash never
 * leaves half a record. Logs live beside them in `logs/`.
 */
export interface StateStore {
  readonly stateDir: string;
  read<T>(kind: HostKind, name: string): Promise<T | undefined>;
  write(kind: HostKind, name: string, record: object): Promise<void>;
  remove(kind: HostKind, name: string): Promise<void>;
  /** Names of every recorded object of a kind. */
  list(kind: HostKind): Promise<string[]>;
  /** Removes the temporary files of record writes a killed agent left. Called at start, before anything writes. */
  removeLeftovers(): Promise<void>;
  /** `logs/<name>.log` for services, `logs/job-<name>.log` for jobs. */
  logPath(kind: "Service" | "Job", name: string): string;
}

/** Opens (and creates) the records of a state directory. */
export function createStateStore(stateDir: string): StateStore {
  const recordPath = (kind: HostKind, name: string): string =>
    path.join(stateDir, "records", kind.toLowerCase(), `${encodeURIComponent(name)}.json`);
  return {
    stateDir,
    async read<T>(kind: HostKind, name: string): Promise<T | undefined> {
      const file = recordPath(kind, name);
      let text: string;
      try {
        text = await readFile(file, "utf8");
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
      try {
        return JSON.parse(text) as T;
      } catch (cause) {
        throw stalled("CorruptState", `the record ${file} is not valid json; remove it to let ferry recreate the object`, { cause });
      }
    },
    async write(kind, name, record) {
      await writeFileAtomic(recordPath(kind, name), JSON.stringify(record, null, 2) + "\n", 0o600);
    },
    async remove(kind, name) {
      await rm(recordPath(kind, name), { force: true });
    },
    async list(kind) {
      const dir = path.join(stateDir, "records", kind.toLowerCase());
      await mkdir(dir, { recursive: true });
      const entries = await readdir(dir);
      return entries.filter((e) => e.endsWith(".json")).map((e) => decodeURIComponent(e.slice(0, -".json".length)));
    },
    async removeLeftovers() {
      const records = path.join(stateDir, "records");
      const kinds = await readdir(records).catch(() => [] as string[]);
      for (const kind of kinds) {
        const entries = await readdir(path.join(records, kind)).catch(() => [] as string[]);
        for (const entry of entries) if (isTemporaryOf(entry)) await rm(path.join(records, kind, entry), { force: true });
      }
    },
    logPath(kind, name) {
      const base = encodeURIComponent(name);
      return path.join(stateDir, "logs", kind === "Job" ? `job-${base}.log` : `${base}.log`);
    },
  };
}

/** True for an ENOENT error. */
export function isNotFound(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "ENOENT";
}
