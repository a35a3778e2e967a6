import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { stalled, transient } from "../core/errors.js";
import type { Candidate } from "./version-policy.js";
import { selectNewest } from "./version-policy.js";
import type { WatchSpec } from "./watch-spec.js";
import { VERSION_PLACEHOLDER } from "./watch-spec.js";
import type { DiscoveredVersion, ResolvedWatcherOptions, Watcher } from "./watcher.js";

type DirectorySpec = Extract<WatchSpec, { type: "directory" }>;

interface FileFacts {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
}

/**
 * Watches a local directory of artifacts: regular files whose name matches
 * the pattern (`web-{version}.tar.gz`); hidden files (a leading dot, as
 * temporary files of an upload usually are) are ignored. The build time is
 * the file's modification time. The winner's sha256 is computed once per
 * (file, size, mtime) and reused while the file is unchanged.
 */
export function createDirectoryWatcher(spec: DirectorySpec, options: ResolvedWatcherOptions): Watcher {
  const dir = resolve(options.baseDir, spec.path);
  const nameRegex = patternToRegex(spec.pattern);
  const description = `directory ${dir} (${spec.pattern})`;
  let cached: { key: string; digest: string } | undefined;

  async function digestOf(file: FileFacts): Promise<string> {
    const key = `${file.path}\0${file.size}\0${file.mtimeMs}\0${file.ino}`;
    if (cached?.key === key) return cached.digest;
    const digest = `sha256:${await sha256File(file.path)}`;
    cached = { key, digest };
    return digest;
  }

  return {
    description,
    async latest(signal) {
      const candidates: Candidate<FileFacts>[] = [];
      for (const name of await listDirectory(dir, description)) {
        signal?.throwIfAborted();
        if (name.startsWith(".")) continue;
        const match = nameRegex.exec(name);
        const version = match?.groups?.version;
        if (version === undefined) continue;
        const path = join(dir, name);
        const facts = await stat(path).catch(() => undefined);
        if (!facts?.isFile()) continue;
        candidates.push({ name: version, builtAt: facts.mtimeMs, data: { path, size: facts.size, mtimeMs: facts.mtimeMs, ino: facts.ino } });
      }
      const newest = selectNewest(candidates, spec.policy);
      if (newest === undefined) return undefined;
      const file = newest.candidate.data as FileFacts;
      let digest: string;
      try {
        digest = await digestOf(file);
      } catch (error) {
        throw transient("WatchSourceUnavailable", `${description}: cannot read ${file.path}: ${(error as Error).message}`, { cause: error });
      }
      const found: DiscoveredVersion = { version: newest.version, digest, url: file.path };
      return found;
    },
  };
}

/** `web-{version}.tar.gz` -> a regex whose group `version` is the version; `*` matches any run of characters. */
export function patternToRegex(pattern: string): RegExp {
  const [before = "", after = ""] = pattern.split(VERSION_PLACEHOLDER);
  const literal = (text: string) =>
    text
      .split("*")
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*");
  return new RegExp(`^${literal(before)}(?<version>.+?)${literal(after)}$`);
}

async function listDirectory(dir: string, description: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOTDIR") throw stalled("WatchSourceInvalid", `${description}: ${dir} is not a directory`, { cause: error });
    if (code === "ENOENT") throw transient("WatchSourceUnavailable", `${description}: ${dir} does not exist`, { cause: error });
    throw transient("WatchSourceUnavailable", `${description}: cannot list ${dir}: ${(error as Error).message}`, { cause: error });
  }
}

/** sha256 of a file's bytes, as lowercase hex, read as a stream. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
