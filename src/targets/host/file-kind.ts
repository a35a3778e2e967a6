import { lstat, readdir, readFile, rm } from "node:fs/promises";
import { basename, dirname, join, posix } from "node:path";
import { ANNOTATIONS, locate } from "../../core/objects.js";
import { MAX_DIFFED_BYTES, unifiedContentDiff } from "../../diff/content-diff.js";
import type { RenderedObject } from "../../core/objects.js";
import type { ApplyOutcome, ObjectContext } from "../target.js";
import type { DirectorySync } from "./atomic-write.js";
import { isTemporaryOf, writeFileAtomic } from "./atomic-write.js";
import { sha256Hex } from "./digest.js";
import type { FileDriftWatcher } from "./file-drift.js";
import { createFileDriftWatcher } from "./file-drift.js";
import type { FileRecord } from "./file-state.js";
import { fileComparable, fileCondition, fileHealth, inspectFile, normalizeMode } from "./file-state.js";
import { resolveInArtifact, resolveUnderRoot, staysInsideRealRoot } from "./host-paths.js";
import { fieldError, parseHostSpec } from "./host-validate.js";
import type { HostEnvironment, KindHandler } from "./kind-handler.js";
import { assertOwner, nameOf } from "./kind-handler.js";
import { isNotFound } from "./state-store.js";

/** A record as found on disk: one written before content digests were sealed has a plain `sha256` instead. */
type StoredFileRecord = Omit<FileRecord, "contentDigest"> & { readonly contentDigest?: string; readonly sha256?: string; readonly replaces?: string };

/** A File handler, plus the switch for its drift watch. */
export interface FileHandler extends KindHandler {
  /** Watches managed files for outside edits while someone watches the target. */
  setWatching(active: boolean): void;
  /** A unified diff, live to Git, of the file's content as last described; undefined when it is secret or there is none to show. */
  contentDiff(name: string, desiredDigest: string): Promise<string | undefined>;
}

/** What a File spec asks for, resolved: where, what, which mode. */
interface DesiredFile {
  readonly path: string;
  readonly content: Buffer;
  readonly sha256: string;
  readonly mode: string;
}

/** Handles `File` objects: content written atomically under the root, drift noticed through file notifications. */
export function createFileHandler(env: HostEnvironment, pollIntervalMs: number, batch?: DirectorySync): FileHandler {
  const records = new OwnedRecords();
  /** What Git says each file holds, as last described, for content diffs: the content up to the diff limit, only the size beyond; none when secret. */
  const described = new Map<string, { readonly path: string; readonly sha256: string; readonly content?: Buffer; readonly size: number }>();
  const drift: FileDriftWatcher = createFileDriftWatcher(
    () => records.values(),
    env.sealer,
    pollIntervalMs,
    (record, message) => env.notify(record.name, record.owner, message),
    { recordOf: (name) => records.get(name) },
  );

  async function desiredOf(object: RenderedObject, context: ObjectContext): Promise<DesiredFile> {
    const spec = parseHostSpec("File", object, env.root);
    // validate() refused paths outside the root, so this resolves.
    const path = resolveUnderRoot(env.root, spec.path) ?? env.root;
    const content = spec.content !== undefined ? Buffer.from(spec.content, "utf8") : await readContentFrom(object, spec.contentFrom ?? "", context);
    return { path, content, sha256: sha256Hex(content), mode: normalizeMode(spec.mode) };
  }

  /** Removes the temporary files a write of this file left when the agent was killed during it. */
  async function removeLeftovers(filePath: string): Promise<void> {
    const dir = dirname(filePath);
    const entries = await readdir(dir).catch(() => [] as string[]);
    for (const entry of entries) if (isTemporaryOf(entry, basename(filePath))) await rm(join(dir, entry), { force: true });
  }

  /**
   * A record that disagrees with a live file that is exactly what Git says
   * (the file was written, the agent killed before its record was) is
   * repaired, not reported as changed outside Ferry for ever.
   */
  async function repairRecord(name: string, desired: DesiredFile, application: string): Promise<void> {
    const record = records.get(name);
    if (!record || record.owner !== application || record.path !== desired.path) return;
    const next: FileRecord = { ...record, contentDigest: env.sealer.seal(desired.sha256), mode: desired.mode };
    if (next.contentDigest === record.contentDigest && next.mode === record.mode) return;
    const live = await inspectFile(desired.path);
    if (!live?.regular || live.sha256 !== desired.sha256 || live.mode !== desired.mode) return;
    await env.store.write("File", name, next);
    records.set(name, next);
    drift.accept(next, live);
  }

  return {
    async start() {
      for (const name of await env.store.list("File")) {
        const stored = await env.store.read<StoredFileRecord>("File", name);
        if (!stored) continue;
        await removeLeftovers(stored.path);
        if (stored.replaces !== undefined) {
          // Killed while moving the file: the old one is Ferry's and goes, as the apply would have done.
          await rm(stored.replaces, { force: true });
          await removeLeftovers(stored.replaces);
        }
        if (stored.contentDigest !== undefined) {
          const { replaces: _replaces, ...record } = stored as FileRecord & { readonly replaces?: string };
          if (stored.replaces !== undefined) await env.store.write("File", name, record);
          records.set(name, record);
          continue;
        }
        // Written before records sealed content digests: the plain sha256 is replaced by its sealed digest.
        const { sha256, ...rest } = stored;
        const record: FileRecord = { ...rest, contentDigest: env.sealer.seal(sha256 ?? "") };
        await env.store.write("File", name, record);
        records.set(name, record);
      }
      // Watching may have begun before the records were read.
      drift.resync();
    },

    async describe(object, context) {
      const desired = await desiredOf(object, context);
      const name = nameOf(object);
      await repairRecord(name, desired, context.application);
      if (object.manifest.metadata.annotations?.[ANNOTATIONS.secret] === "true") described.delete(name);
      else described.set(name, { path: desired.path, sha256: desired.sha256, size: desired.content.length, ...(desired.content.length <= MAX_DIFFED_BYTES ? { content: desired.content } : {}) });
      return fileComparable(desired.path, desired.sha256, desired.mode);
    },

    async apply(object, context): Promise<ApplyOutcome> {
      const name = nameOf(object);
      const desired = await desiredOf(object, context);
      const record = records.get(name);
      assertOwner("File", name, record?.owner, context.application);
      // Within one application the path passes on (an object renamed, the old one pruned after): validation refuses two at once.
      const other = [...records.values()].find((r) => r.name !== name && r.path === desired.path && r.owner !== context.application);
      if (other) {
        throw fieldError(
          "PathOwnedByAnotherFile",
          object,
          "/spec/path",
          `path ${desired.path} is already written by file ${other.name} of application ${JSON.stringify(other.owner)}: one path can have one owner; give one of them another spec.path (an overlay's patch), or delete it there first`,
        );
      }
      if (!(await staysInsideRealRoot(env.root, desired.path))) {
        throw fieldError("PathEscapesRoot", object, "/spec/path", `path ${desired.path} resolves through a symlink to a place outside the allowed root ${env.root}`);
      }
      const live = await inspectFile(desired.path, record?.path === desired.path ? drift.snapshot(name) : undefined);
      const next: FileRecord = { name, owner: context.application, path: desired.path, contentDigest: env.sealer.seal(desired.sha256), mode: desired.mode };
      if (record && record.path === next.path && record.contentDigest === next.contentDigest && record.mode === next.mode && fileCondition(next, live, env.sealer) === "applied") {
        return "unchanged";
      }
      if (live && !live.regular) {
        throw fieldError("PathNotAFile", object, "/spec/path", `path ${desired.path} exists and is not a regular file`);
      }
      drift.hold(name);
      try {
        // Write-ahead: the record names the new content (and the old path of a move) before the file changes, so a kill in
        // between leaves a record the live file differs from (applied again), never a record older than the file.
        const moved = record && record.path !== next.path ? { replaces: record.path } : {};
        await env.store.write("File", name, { ...next, ...moved });
        records.set(name, next);
        try {
          await writeFileAtomic(desired.path, desired.content, parseInt(desired.mode, 8), batch);
        } catch (error) {
          if (record) await env.store.write("File", name, record);
          else await env.store.remove("File", name);
          if (record) records.set(name, record);
          else records.delete(name);
          throw error;
        }
        // The file moved: the old one is Ferry's and would otherwise be left behind.
        if (record && record.path !== next.path) {
          await rm(record.path, { force: true });
          await env.store.write("File", name, next);
        }
        drift.accept(next, await inspectFile(next.path));
      } finally {
        drift.release(name);
      }
      // Measured against what read() showed: a recorded file that was deleted is created again.
      return live ? "configured" : "created";
    },

    async read(name) {
      const record = records.get(name);
      if (!record) return undefined;
      const live = await inspectFile(record.path, drift.snapshot(name));
      if (!live) return undefined;
      return { state: fileComparable(record.path, live.sha256, live.mode), owner: record.owner };
    },

    async owned(application) {
      return records.ownedBy(application);
    },

    async health(name) {
      const record = records.get(name);
      if (!record) return { status: "Missing", message: `file ${name} is not managed here` };
      const health = fileHealth(record, await inspectFile(record.path, drift.snapshot(name)), env.sealer);
      const polled = drift.pollingReason(record.path);
      return polled === undefined ? health : { ...health, message: `${health.message} (${polled})` };
    },

    async delete(name, application) {
      const record = records.get(name);
      if (!record || record.owner !== application) return;
      drift.hold(name);
      try {
        // A file that took the path over (the object was renamed) keeps it.
        if (![...records.values()].some((r) => r.name !== name && r.path === record.path)) await rm(record.path, { force: true });
        await env.store.remove("File", name);
        records.delete(name);
        drift.forget(name);
        described.delete(name);
      } finally {
        drift.release(name);
      }
    },

    async stopAll() {},

    close() {
      drift.setActive(false);
    },

    setWatching(active) {
      drift.setActive(active);
    },

    async contentDiff(name, desiredDigest) {
      const desired = described.get(name);
      const record = records.get(name);
      // Only the content that was described for this very diff (a preview of another revision describes other content).
      if (!desired || desired.sha256 !== desiredDigest || !record || record.path !== desired.path) return undefined;
      const live = await readBounded(record.path);
      if (live === undefined) return undefined;
      if (desired.content === undefined || live.content === undefined) {
        return `content differs (${Math.max(desired.size, live.size)} bytes: files over ${MAX_DIFFED_BYTES / 1024} KiB are not diffed)`;
      }
      return unifiedContentDiff(record.path, live.content, desired.content);
    },
  };
}

/** A regular file's content up to the diff limit (only its size beyond); undefined when it is not a readable regular file. */
async function readBounded(path: string): Promise<{ readonly content?: Buffer; readonly size: number } | undefined> {
  try {
    const info = await lstat(path);
    if (!info.isFile()) return undefined;
    if (info.size > MAX_DIFFED_BYTES) return { size: info.size };
    const content = await readFile(path);
    return { content, size: content.length };
  } catch {
    return undefined;
  }
}

/**
 * The repository file a File's `contentFrom` names, relative to the
 * repository root (resolved from the manifest that wrote the field); none for
 * other objects, inline content, or a path that leaves the repository.
 */
export function contentFromOf(object: RenderedObject): string[] {
  if (object.manifest.kind !== "File") return [];
  const spec = (object.manifest as { spec?: { contentFrom?: unknown } }).spec;
  const written = spec?.contentFrom;
  if (typeof written !== "string" || written === "" || posix.isAbsolute(written)) return [];
  const resolved = posix.normalize(posix.join(posix.dirname(locate(object.origin, "/spec/contentFrom").file), written));
  return resolved === ".." || resolved.startsWith("../") ? [] : [resolved];
}

async function readContentFrom(object: RenderedObject, contentFrom: string, context: ObjectContext): Promise<Buffer> {
  // Relative to the file that wrote the field: an overlay's patch may have set it.
  const source = resolveInArtifact(context.artifactDirectory, locate(object.origin, "/spec/contentFrom").file, contentFrom);
  if (source === undefined || !(await staysInsideRealRoot(context.artifactDirectory, source))) {
    throw fieldError("PathEscapesRepository", object, "/spec/contentFrom", `contentFrom ${JSON.stringify(contentFrom)} points outside the repository`);
  }
  try {
    return await readFile(source);
  } catch (error) {
    const why = isNotFound(error) ? "does not exist in the repository" : "cannot be read";
    throw fieldError("ContentFromUnreadable", object, "/spec/contentFrom", `contentFrom ${JSON.stringify(contentFrom)} ${why}`, error);
  }
}

/**
 * The File records by name, with the names each application owns: asking
 * what one application owns (every run does) costs what it owns, not what
 * every application owns.
 */
class OwnedRecords {
  readonly #byName = new Map<string, FileRecord>();
  readonly #byOwner = new Map<string, Set<string>>();

  get(name: string): FileRecord | undefined {
    return this.#byName.get(name);
  }

  values(): IterableIterator<FileRecord> {
    return this.#byName.values();
  }

  set(name: string, record: FileRecord): void {
    this.delete(name);
    this.#byName.set(name, record);
    const names = this.#byOwner.get(record.owner);
    if (names) names.add(name);
    else this.#byOwner.set(record.owner, new Set([name]));
  }

  delete(name: string): void {
    const before = this.#byName.get(name);
    if (!before) return;
    this.#byName.delete(name);
    const names = this.#byOwner.get(before.owner);
    names?.delete(name);
    if (names?.size === 0) this.#byOwner.delete(before.owner);
  }

  ownedBy(owner: string): string[] {
    return [...(this.#byOwner.get(owner) ?? [])];
  }
}
