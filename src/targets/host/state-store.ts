import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { stalled } from "../../core/errors.js";
import type { DirectorySync } from "./atomic-write.js";
import { isTemporaryOf, writeFileAtomic } from "./atomic-write.js";
import { hostId, splitHostId } from "./host-ids.js";
import type { HostKind } from "./host-schemas.js";

/**
 * The host target's own records under its state directory, one JSON file per
 * object, written atomically so a crash never leaves half a record: objects
 * are addressed by their id (see host-ids.ts), `records/<kind>/<name>.json` in
 * the default namespace and `records/<kind>/<namespace>/<name>.json` in any
 * other. Logs live beside them in `logs/` (and `logs/<namespace>/`).
 */
export interface StateStore {
  readonly stateDir: string;
  read<T>(kind: HostKind, id: string): Promise<T | undefined>;
  write(kind: HostKind, id: string, record: object): Promise<void>;
  remove(kind: HostKind, id: string): Promise<void>;
  /** Ids of every recorded object of a kind, in every namespace. */
  list(kind: HostKind): Promise<string[]>;
  /** Removes the temporary files of record writes a killed agent left. Called at start, before anything writes. */
  removeLeftovers(): Promise<void>;
  /** `logs/[<namespace>/]<name>.log` for services, `logs/[<namespace>/]job-<name>.log` for jobs. */
  logPath(kind: "Service" | "Job", id: string): string;
}

/** Opens (and creates) the records of a state directory; with `batch`, directory fsyncs wait for its flush. */
export function createStateStore(stateDir: string, batch?: DirectorySync): StateStore {
  const inNamespace = (dir: string, id: string, file: (name: string) => string): string => {
    const { namespace, name } = splitHostId(id);
    return path.join(dir, ...(namespace === undefined ? [] : [encodeURIComponent(namespace)]), file(encodeURIComponent(name)));
  };
  const recordPath = (kind: HostKind, id: string): string => inNamespace(path.join(stateDir, "records", kind.toLowerCase()), id, (name) => `${name}.json`);
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
      await writeFileAtomic(recordPath(kind, name), JSON.stringify(record, null, 2) + "\n", 0o600, batch);
    },
    async remove(kind, name) {
      await rm(recordPath(kind, name), { force: true });
    },
    async list(kind) {
      const dir = path.join(stateDir, "records", kind.toLowerCase());
      await mkdir(dir, { recursive: true });
      const ids: string[] = [];
      const names = (entries: readonly { name: string; isFile(): boolean }[]): string[] =>
        entries.filter((e) => e.isFile() && e.name.endsWith(".json")).map((e) => decodeURIComponent(e.name.slice(0, -".json".length)));
      const entries = await readdir(dir, { withFileTypes: true });
      ids.push(...names(entries));
      // One directory per namespace other than the default one.
      for (const namespace of entries.filter((e) => e.isDirectory())) {
        const inside = await readdir(path.join(dir, namespace.name), { withFileTypes: true });
        ids.push(...names(inside).map((name) => hostId(decodeURIComponent(namespace.name), name)));
      }
      return ids;
    },
    async removeLeftovers() {
      // records/<kind>/ and, one level down, records/<kind>/<namespace>/.
      const records = path.join(stateDir, "records");
      const dirs = (await readdir(records).catch(() => [] as string[])).map((kind) => path.join(records, kind));
      for (const dir of dirs) {
        for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
          if (entry.isDirectory() && dir.split(path.sep).length === records.split(path.sep).length + 1) dirs.push(path.join(dir, entry.name));
          else if (entry.isFile() && isTemporaryOf(entry.name)) await rm(path.join(dir, entry.name), { force: true });
        }
      }
    },
    logPath(kind, id) {
      return inNamespace(path.join(stateDir, "logs"), id, (name) => (kind === "Job" ? `job-${name}.log` : `${name}.log`));
    },
  };
}

/** True for an ENOENT error. */
export function isNotFound(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "ENOENT";
}
