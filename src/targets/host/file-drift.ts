import type { FSWatcher } from "node:fs";
import { watch as fsWatch } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import type { FileCondition, FileRecord, FileSnapshot } from "./file-state.js";
import { fileCondition, inspectFile } from "./file-state.js";
import type { RecordSealer } from "./record-seal.js";

/** Tells about a managed file that changed outside Ferry's own writes. */
export type DriftListener = (record: FileRecord, message: string) => void;

/**
 * Notices edits and deletions of managed files through the operating
 * system's file notifications: one watch per directory holding managed files
 * (inotify on Linux), so an idle agent does no work at all. A notification
 * makes only the files it names be looked at; a file's content is hashed
 * only when its metadata (size, times, inode, mode) moved. A directory that
 * cannot be watched (it does not exist yet, the watch limit is reached, a
 * file system without notifications) is polled instead, every `intervalMs`,
 * until it can be; `pollingReason` says why, for the files' status. The
 * engine's run at each application's interval reads every file again: the
 * safety net for a notification that never came.
 */
export interface FileDriftWatcher {
  /** Starts or stops watching. */
  setActive(active: boolean): void;
  /** Ferry just wrote (or adopted) this file: its current state is the applied one. */
  accept(record: FileRecord, snapshot: FileSnapshot | undefined): void;
  /** The file is no longer managed. */
  forget(name: string): void;
  /** Ferry is writing the file right now: the half-done state is not drift. */
  hold(name: string): void;
  release(name: string): void;
  /** The records were loaded or replaced wholesale (at start): watch the directories they are in. */
  resync(): void;
  /** The last state seen of a managed file, so a reader hashes it again only when its metadata moved. */
  snapshot(name: string): FileSnapshot | undefined;
  /** Why edits of a file at this path are noticed by polling, not notifications; undefined when notified (or not watching). */
  pollingReason(filePath: string): string | undefined;
}

/** How the watcher watches a directory: node's fs.watch, replaceable in tests. */
export type WatchDirectory = (directory: string, onChange: (filename: string | undefined) => void) => FSWatcher;

const watchDirectory: WatchDirectory = (directory, onChange) =>
  fsWatch(directory, { persistent: false }, (_event, filename) => onChange(filename === null ? undefined : String(filename)));

/** Creates the watcher over a live view of the records. */
export function createFileDriftWatcher(
  records: () => Iterable<FileRecord>,
  sealer: RecordSealer,
  intervalMs: number,
  listener: DriftListener,
  options: { readonly watch?: WatchDirectory; readonly recordOf?: (name: string) => FileRecord | undefined } = {},
): FileDriftWatcher {
  const watchDir = options.watch ?? watchDirectory;
  const seen = new Map<string, Seen>();
  const held = new Set<string>();
  // Bumped by every write of Ferry's own, so a check that overlapped one discards what it saw.
  const versions = new Map<string, number>();
  const bump = (name: string): void => void versions.set(name, (versions.get(name) ?? 0) + 1);
  const watchers = new Map<string, FSWatcher>();
  /** Directory of each file accepted, and the names of the files each directory holds. */
  const directoryOf = new Map<string, string>();
  const filesIn = new Map<string, Set<string>>();
  /** Directories polled instead of watched, with why. */
  const polled = new Map<string, string>();
  /** Directory -> names of the files changed there (undefined: any of them), waiting to be looked at. */
  const pending = new Map<string, Set<string> | undefined>();
  let active = false;
  let pollTimer: NodeJS.Timeout | undefined;
  let flushTimer: NodeJS.Timeout | undefined;
  let checking = false;

  function byDirectory(): Map<string, FileRecord[]> {
    const out = new Map<string, FileRecord[]>();
    for (const record of records()) {
      const dir = path.dirname(record.path);
      const list = out.get(dir);
      if (list) list.push(record);
      else out.set(dir, [record]);
    }
    return out;
  }

  async function check(record: FileRecord): Promise<void> {
    if (held.has(record.name)) return;
    const before: Seen = seen.get(record.name) ?? { condition: "applied", fingerprint: record.contentDigest + record.mode };
    const version = versions.get(record.name);
    const snapshot = await inspectFile(record.path, before.snapshot).catch(() => undefined);
    if (held.has(record.name) || versions.get(record.name) !== version) return;
    // The same metadata as last time: nothing to compare again.
    if (snapshot !== undefined && snapshot === before.snapshot) return;
    const now = observe(fileCondition(record, snapshot, sealer), snapshot);
    seen.set(record.name, now);
    // A second, different edit of an already modified file is news too.
    const changed = now.condition !== before.condition || (now.condition === "modified" && now.fingerprint !== before.fingerprint);
    if (!changed) return;
    const what = now.condition === "deleted" ? "was deleted" : now.condition === "modified" ? "was modified" : "is back to its applied content";
    listener(record, `file ${record.name} ${what}`);
  }

  /** Watches every directory holding managed files (and no other); polls those that cannot be watched. */
  function syncWatches(): void {
    if (!active) return;
    const directories = byDirectory();
    directoryOf.clear();
    filesIn.clear();
    for (const [dir, list] of directories) {
      filesIn.set(dir, new Set(list.map((r) => r.name)));
      for (const record of list) directoryOf.set(record.name, dir);
    }
    for (const [dir, watcher] of watchers) {
      if (directories.has(dir)) continue;
      watcher.close();
      watchers.delete(dir);
    }
    for (const dir of polled.keys()) if (!directories.has(dir)) polled.delete(dir);
    for (const dir of directories.keys()) if (!watchers.has(dir)) watchOne(dir);
    setPolling(polled.size > 0);
  }

  /** Watches one directory, or polls it when it cannot be watched. */
  function watchOne(dir: string): void {
    try {
      const watcher = watchDir(dir, (filename) => changedIn(dir, filename));
      watcher.on("error", (error: NodeJS.ErrnoException) => unwatch(dir, `watching ${dir} failed: ${error.code ?? error.message}`));
      watchers.set(dir, watcher);
      if (polled.delete(dir)) changedIn(dir, undefined);
    } catch (error) {
      polled.set(dir, notWatchable(dir, error as NodeJS.ErrnoException));
    }
    setPolling(polled.size > 0);
  }

  /** A file left `dir` (forgotten, or moved): the last one to leave ends its watch. */
  function leave(dir: string, name: string): void {
    const names = filesIn.get(dir);
    names?.delete(name);
    if (names && names.size > 0) return;
    filesIn.delete(dir);
    watchers.get(dir)?.close();
    watchers.delete(dir);
    polled.delete(dir);
    setPolling(polled.size > 0);
  }

  function unwatch(dir: string, reason: string): void {
    watchers.get(dir)?.close();
    watchers.delete(dir);
    polled.set(dir, reason);
    setPolling(active);
  }

  function setPolling(on: boolean): void {
    if (on && !pollTimer) {
      pollTimer = setInterval(() => void poll(), intervalMs);
      pollTimer.unref();
    } else if (!on && pollTimer) {
      clearInterval(pollTimer);
      pollTimer = undefined;
    }
  }

  async function poll(): Promise<void> {
    for (const dir of polled.keys()) changedIn(dir, undefined);
    // A directory that exists again is watched again.
    syncWatches();
  }

  function changedIn(dir: string, filename: string | undefined): void {
    const names = pending.get(dir);
    if (pending.has(dir) && names === undefined) return;
    if (filename === undefined) pending.set(dir, undefined);
    else pending.set(dir, new Set([...(names ?? []), filename]));
    // A burst of notifications (an editor's write, rename and chmod) is looked at once.
    flushTimer ??= setTimeout(() => void flush(), 10);
    flushTimer.unref();
  }

  async function flush(): Promise<void> {
    flushTimer = undefined;
    if (checking) {
      flushTimer = setTimeout(() => void flush(), 10);
      flushTimer.unref();
      return;
    }
    checking = true;
    try {
      const work = [...pending];
      pending.clear();
      // Only the records of the directories notified are looked up (not every record: a first sync writes thousands).
      const recordOf = options.recordOf;
      const directories = recordOf ? undefined : byDirectory();
      const inDirectory = (dir: string): FileRecord[] =>
        directories ? (directories.get(dir) ?? []) : [...(filesIn.get(dir) ?? [])].flatMap((name) => recordOf?.(name) ?? []).filter((r) => path.dirname(r.path) === dir);
      for (const [dir, names] of work) {
        for (const record of inDirectory(dir)) if (names === undefined || names.has(path.basename(record.path))) await check(record);
        // The directory itself went away: its watch is dead, so it is polled until it is back.
        if (watchers.has(dir) && !(await isDirectory(dir))) unwatch(dir, `directory ${dir} was removed`);
      }
    } finally {
      checking = false;
    }
  }

  return {
    setActive(on) {
      active = on;
      if (on) {
        syncWatches();
        return;
      }
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
      polled.clear();
      pending.clear();
      setPolling(false);
      if (flushTimer) clearTimeout(flushTimer);
      flushTimer = undefined;
    },
    accept(record, snapshot) {
      bump(record.name);
      seen.set(record.name, observe("applied", snapshot));
      const dir = path.dirname(record.path);
      const before = directoryOf.get(record.name);
      if (before !== dir) {
        if (before !== undefined) leave(before, record.name);
        directoryOf.set(record.name, dir);
        const names = filesIn.get(dir);
        if (names) names.add(record.name);
        else filesIn.set(dir, new Set([record.name]));
      }
      // One directory more to watch: watched on its own, without going over every record again.
      if (active && !watchers.has(dir)) watchOne(dir);
    },
    forget(name) {
      bump(name);
      seen.delete(name);
      const dir = directoryOf.get(name);
      directoryOf.delete(name);
      if (dir !== undefined) leave(dir, name);
    },
    hold(name) {
      bump(name);
      held.add(name);
    },
    release(name) {
      held.delete(name);
    },
    resync() {
      syncWatches();
    },
    snapshot(name) {
      return seen.get(name)?.snapshot;
    },
    pollingReason(filePath) {
      const reason = polled.get(path.dirname(filePath));
      return reason === undefined ? undefined : `edits noticed by polling every ${intervalMs / 1000} s: ${reason}`;
    },
  };
}

function notWatchable(dir: string, error: NodeJS.ErrnoException): string {
  if (error.code === "ENOENT") return `directory ${dir} does not exist`;
  if (error.code === "ENOSPC") return "the limit of file watches is reached (fs.inotify.max_user_watches)";
  return `${dir} cannot be watched: ${error.code ?? error.message}`;
}

async function isDirectory(dir: string): Promise<boolean> {
  try {
    return (await stat(dir)).isDirectory();
  } catch {
    return false;
  }
}

interface Seen {
  readonly condition: FileCondition;
  readonly fingerprint?: string;
  readonly snapshot?: FileSnapshot;
}

function observe(condition: FileCondition, snapshot: FileSnapshot | undefined): Seen {
  return snapshot ? { condition, fingerprint: snapshot.sha256 + snapshot.mode, snapshot } : { condition };
}
