import type { FileCondition, FileRecord, FileSnapshot } from "./file-state.js";
import { fileCondition, inspectFile } from "./file-state.js";
import type { RecordSealer } from "./record-seal.js";

/** Tells about a managed file that changed outside Ferry's own writes. */
export type DriftListener = (record: FileRecord, message: string) => void;

/**
 * Notices edits and deletions of managed files by polling their metadata.
 * A stat per file per tick is cheap, works on every file system (fs.watch
 * misses renames over the file and network mounts), and survives the
 * directory being removed and created again. Content is hashed only when the
 * metadata moved.
 */
export interface FileDriftWatcher {
  /** Starts or stops polling. */
  setActive(active: boolean): void;
  /** Ferry just wrote (or adopted) this file: its current state is the applied one. */
  accept(record: FileRecord, snapshot: FileSnapshot | undefined): void;
  /** The file is no longer managed. */
  forget(name: string): void;
  /** Ferry is writing the file right now: the half-done state is not drift. */
  hold(name: string): void;
  release(name: string): void;
}

/** Creates the watcher over a live view of the records. */
export function createFileDriftWatcher(
  records: () => Iterable<FileRecord>,
  sealer: RecordSealer,
  intervalMs: number,
  listener: DriftListener,
): FileDriftWatcher {
  const seen = new Map<string, Seen>();
  const held = new Set<string>();
  // Bumped by every write of Ferry's own, so a poll that overlapped one discards what it saw.
  const versions = new Map<string, number>();
  const bump = (name: string): void => void versions.set(name, (versions.get(name) ?? 0) + 1);
  let timer: NodeJS.Timeout | undefined;
  let polling = false;

  async function poll(): Promise<void> {
    if (polling) return;
    polling = true;
    try {
      for (const record of records()) {
        if (held.has(record.name)) continue;
        const before: Seen = seen.get(record.name) ?? { condition: "applied", fingerprint: record.contentDigest + record.mode };
        const version = versions.get(record.name);
        const snapshot = await inspectFile(record.path, before.snapshot).catch(() => undefined);
        if (held.has(record.name) || versions.get(record.name) !== version) continue;
        const now = observe(fileCondition(record, snapshot, sealer), snapshot);
        seen.set(record.name, now);
        // A second, different edit of an already modified file is news too.
        const changed = now.condition !== before.condition || (now.condition === "modified" && now.fingerprint !== before.fingerprint);
        if (!changed) continue;
        const what = now.condition === "deleted" ? "was deleted" : now.condition === "modified" ? "was modified" : "is back to its applied content";
        listener(record, `file ${record.name} ${what}`);
      }
    } finally {
      polling = false;
    }
  }

  return {
    setActive(active) {
      if (active && !timer) {
        timer = setInterval(() => void poll(), intervalMs);
        timer.unref();
      } else if (!active && timer) {
        clearInterval(timer);
        timer = undefined;
      }
    },
    accept(record, snapshot) {
      bump(record.name);
      seen.set(record.name, observe("applied", snapshot));
    },
    forget(name) {
      bump(name);
      seen.delete(name);
    },
    hold(name) {
      bump(name);
      held.add(name);
    },
    release(name) {
      held.delete(name);
    },
  };
}

interface Seen {
  readonly condition: FileCondition;
  readonly fingerprint?: string;
  readonly snapshot?: FileSnapshot;
}

function observe(condition: FileCondition, snapshot: FileSnapshot | undefined): Seen {
  return snapshot ? { condition, fingerprint: snapshot.sha256 + snapshot.mode, snapshot } : { condition };
}
