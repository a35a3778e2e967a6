import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readdir, rename, rm, stat, utimes } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { fileURLToPath } from "node:url";
import { createGunzip } from "node:zlib";
import type { FerryError } from "../../core/errors.js";
import { transient } from "../../core/errors.js";
import type { RenderedObject } from "../../core/objects.js";
import { copyTreeWithDigest, sha256Stream } from "./artifact-tree.js";
import type { ArtifactSpec } from "./host-schemas.js";
import { fieldError } from "./host-validate.js";
import type { StateStore } from "./state-store.js";
import { extractTar, UnsafeArchiveError } from "./tar-extract.js";

/** Unpacked artifacts that no service or job uses any more are kept, newest first, up to this many. */
export const ARTIFACTS_KEPT = 3;

/** How long a download may take before it is abandoned (and retried at the next apply). */
const DOWNLOAD_TIMEOUT_MS = 10 * 60_000;

/**
 * Artifacts unpacked under the host state directory, one directory per
 * content digest (`<state>/artifacts/<sha256 hex>/`). An artifact is fetched
 * into a temporary directory, its digest checked before anything is
 * unpacked, unpacked there, and renamed into place, so a directory under its
 * digest is always complete. One preparation runs at a time.
 */
export interface ArtifactCache {
  /** `<state>/artifacts`. */
  readonly dir: string;
  /** Where an artifact of this digest is (or will be) unpacked. Pure. */
  pathOf(digest: string): string;
  /**
   * Makes sure the artifact of `object`'s `spec.artifact` is unpacked and
   * returns its directory. A digest mismatch, an unreadable or hostile
   * archive are stalled errors naming the field; a failed download is transient.
   */
  prepare(artifact: ArtifactSpec, object: RenderedObject): Promise<string>;
  /** Removes unpacked artifacts whose digest is not in `inUse`, keeping the ARTIFACTS_KEPT most recently used of them. */
  collect(inUse: ReadonlySet<string>): Promise<void>;
}

/** Opens the artifact cache of a host state directory (nothing is created until the first prepare). */
export function createArtifactCache(stateDir: string, options: { fetch?: typeof fetch } = {}): ArtifactCache {
  const dir = path.join(stateDir, "artifacts");
  const doFetch = options.fetch ?? fetch;
  let queue: Promise<unknown> = Promise.resolve();
  const serialize = <T>(run: () => Promise<T>): Promise<T> => {
    const next = queue.then(run, run);
    queue = next.catch(() => undefined);
    return next;
  };
  const pathOf = (digest: string) => path.join(dir, digest.replace(/^sha256:/, ""));

  async function prepareNow(artifact: ArtifactSpec, object: RenderedObject): Promise<string> {
    const final = pathOf(artifact.digest);
    if (await isDirectory(final)) {
      const now = new Date();
      await utimes(final, now, now).catch(() => undefined);
      return final;
    }
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const temp = path.join(dir, `.tmp-${randomBytes(6).toString("hex")}`);
    await mkdir(temp, { mode: 0o700 });
    try {
      const tree = path.join(temp, "tree");
      const local = localPath(artifact.url);
      if (local !== undefined && (await isDirectory(local))) {
        const actual = await copyTreeWithDigest(local, tree).catch((error: unknown) => {
          throw asStalled(error, object, `cannot copy the artifact directory ${local}`);
        });
        checkDigest(artifact, actual, object);
      } else {
        const download = path.join(temp, "download");
        const actual = await fetchTo(artifact.url, local, download, object, doFetch);
        checkDigest(artifact, actual, object);
        await mkdir(tree, { mode: 0o755 });
        try {
          await extractTar(await archiveStream(download), tree);
        } catch (error) {
          throw asStalled(error, object, `cannot unpack the artifact ${artifact.url}`);
        }
      }
      try {
        await rename(tree, final);
      } catch (error) {
        // Another preparation of the same digest won the race; its copy is as good as ours.
        if (!(await isDirectory(final))) throw error;
      }
      return final;
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
  }

  return {
    dir,
    pathOf,
    prepare: (artifact, object) => serialize(() => prepareNow(artifact, object)),
    collect: (inUse) =>
      serialize(async () => {
        const entries = await readdir(dir).catch(() => [] as string[]);
        const unused: { path: string; mtimeMs: number }[] = [];
        for (const entry of entries) {
          if (entry.startsWith(".tmp-")) {
            // Left by an agent that died while preparing; a live preparation holds the queue, so none runs now.
            await rm(path.join(dir, entry), { recursive: true, force: true });
            continue;
          }
          if (!/^[0-9a-f]{64}$/.test(entry) || inUse.has(`sha256:${entry}`)) continue;
          const info = await stat(path.join(dir, entry)).catch(() => undefined);
          if (info) unused.push({ path: path.join(dir, entry), mtimeMs: info.mtimeMs });
        }
        unused.sort((a, b) => b.mtimeMs - a.mtimeMs);
        for (const old of unused.slice(ARTIFACTS_KEPT)) await rm(old.path, { recursive: true, force: true });
      }),
  };
}

/** An absolute path or a file:// URL as a path; undefined for http(s). */
function localPath(url: string): string | undefined {
  if (url.startsWith("file:")) return fileURLToPath(url);
  if (path.isAbsolute(url)) return url;
  return undefined;
}

/** Copies or downloads the artifact to `to`, returning the `sha256:<hex>` of the bytes written. */
async function fetchTo(url: string, local: string | undefined, to: string, object: RenderedObject, doFetch: typeof fetch): Promise<string> {
  if (local !== undefined) {
    const info = await stat(local).catch(() => undefined);
    if (!info?.isFile()) throw fieldError("ArtifactNotFound", object, "/spec/artifact/url", `artifact ${local} does not exist or is not a file or directory`);
    return writeHashed(createReadStream(local), to);
  }
  let response: Response;
  try {
    response = await doFetch(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
  } catch (error) {
    throw transient("ArtifactFetchFailed", `cannot download the artifact ${url}: ${(error as Error).message}`, { cause: error });
  }
  if (!response.ok || response.body === null) {
    await response.body?.cancel();
    const message = `downloading the artifact ${url} answered ${response.status} ${response.statusText}`.trim();
    if (response.status >= 500 || response.status === 429 || response.status === 408) throw transient("ArtifactFetchFailed", message);
    throw fieldError("ArtifactFetchFailed", object, "/spec/artifact/url", message);
  }
  try {
    return await writeHashed(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), to);
  } catch (error) {
    throw transient("ArtifactFetchFailed", `downloading the artifact ${url} broke off: ${(error as Error).message}`, { cause: error });
  }
}

async function writeHashed(source: AsyncIterable<Buffer | Uint8Array>, to: string): Promise<string> {
  const handle = await open(to, "wx", 0o600);
  try {
    return `sha256:${await sha256Stream(source, (chunk) => handle.write(chunk).then(() => undefined))}`;
  } finally {
    await handle.close();
  }
}

/** The archive's tar stream: gunzipped when it starts with the gzip magic bytes. */
async function archiveStream(file: string): Promise<AsyncIterable<Buffer>> {
  const handle = await open(file, "r");
  const magic = Buffer.alloc(2);
  try {
    await handle.read(magic, 0, 2, 0);
  } finally {
    await handle.close();
  }
  const raw = createReadStream(file);
  return magic[0] === 0x1f && magic[1] === 0x8b ? raw.pipe(createGunzip()) : raw;
}

function checkDigest(artifact: ArtifactSpec, actual: string, object: RenderedObject): void {
  if (actual === artifact.digest) return;
  throw fieldError(
    "ArtifactDigestMismatch",
    object,
    "/spec/artifact/digest",
    `artifact ${artifact.url} has digest ${actual}, not ${artifact.digest}; nothing was unpacked or replaced, what runs keeps running`,
  );
}

function asStalled(error: unknown, object: RenderedObject, what: string): FerryError {
  const reason = error instanceof UnsafeArchiveError ? "ArtifactUnsafe" : "ArtifactUnreadable";
  const message = error instanceof UnsafeArchiveError ? `${what}: refused: ${error.message}` : `${what}: ${(error as Error).message}`;
  return fieldError(reason, object, "/spec/artifact/url", message, error);
}

async function isDirectory(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
}

/** Digests of the artifacts the recorded services and jobs of a state directory run. */
export async function artifactsInUse(store: StateStore): Promise<Set<string>> {
  const inUse = new Set<string>();
  for (const kind of ["Service", "Job"] as const) {
    for (const name of await store.list(kind)) {
      const record = await store.read<{ desired?: { artifact?: { digest?: unknown } } }>(kind, name).catch(() => undefined);
      const digest = record?.desired?.artifact?.digest;
      if (typeof digest === "string") inUse.add(digest);
    }
  }
  return inUse;
}
