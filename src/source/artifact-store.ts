import { randomBytes } from "node:crypto";
import { mkdir, readdir, rename, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { FerryError, transient } from "../core/errors.js";
import type { Revision } from "../core/ids.js";
import { makeTreeReadOnly, removeTree } from "./read-only-tree.js";

const REVISION_NAME = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
const TEMPORARY_PREFIX = ".tmp-";

/** One store per directory in this process, so every fetcher sees what the others keep. */
const stores = new Map<string, ArtifactStore>();

/**
 * The checked-out commits under one directory, `<root>/<revision>/`, each
 * written to a temporary sibling and renamed into place, so a crash never
 * leaves half an artifact behind. Owners (one per fetcher) say which
 * revisions they still need; `prune` removes the rest.
 *
 * Assumes one process per cache directory: a second process's artifacts look
 * unneeded to this one.
 */
export class ArtifactStore {
  readonly root: string;
  /** Owner -> revisions it needs, most recently used first. */
  readonly #retained = new Map<string, Revision[]>();
  readonly #building = new Map<Revision, Promise<string>>();
  readonly #temporaries = new Set<string>();

  private constructor(root: string) {
    this.root = root;
  }

  /** The store of a directory, shared by every caller in this process. */
  static at(root: string): ArtifactStore {
    const absolute = resolve(root);
    let store = stores.get(absolute);
    if (!store) {
      store = new ArtifactStore(absolute);
      stores.set(absolute, store);
    }
    return store;
  }

  /** Where the artifact of a revision lives (whether or not it exists yet). */
  directoryOf(revision: Revision): string {
    return join(this.root, revision);
  }

  /** Marks a revision as needed by `owner`, as its most recently used. Call it before `materialize`. */
  retain(owner: string, revision: Revision): void {
    const list = this.#retained.get(owner) ?? [];
    this.#retained.set(owner, [revision, ...list.filter((r) => r !== revision)]);
  }

  /**
   * Returns the directory of a revision's artifact, creating it when absent:
   * `write` fills an empty temporary directory, which is then made read-only
   * (unless `write` says it made it so itself) and renamed into place.
   * Concurrent calls for one revision share the work.
   */
  materialize(revision: Revision, write: (directory: string) => Promise<void | "read-only">): Promise<string> {
    const pending = this.#building.get(revision);
    if (pending) return pending;
    const build = this.#build(revision, write).finally(() => this.#building.delete(revision));
    this.#building.set(revision, build);
    return build;
  }

  /**
   * Keeps the `keep` most recently used revisions of `owner` (and `pinned`
   * ones, such as its current artifact) and removes every artifact directory
   * that no owner keeps, including leftovers of earlier runs and interrupted
   * checkouts. Returns the revisions removed.
   */
  async prune(owner: string, keep: number, pinned: readonly Revision[] = []): Promise<Revision[]> {
    const list = this.#retained.get(owner) ?? [];
    this.#retained.set(owner, list.filter((revision, i) => i < Math.max(1, keep) || pinned.includes(revision)));
    const needed = new Set<string>([...this.#building.keys(), ...[...this.#retained.values()].flat()]);
    const removed: Revision[] = [];
    let names: string[];
    try {
      names = await readdir(this.root);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return removed;
      throw error;
    }
    for (const name of names) {
      const path = join(this.root, name);
      if (REVISION_NAME.test(name) && !needed.has(name)) {
        await removeTree(path);
        removed.push(name as Revision);
      } else if (name.startsWith(TEMPORARY_PREFIX) && !this.#temporaries.has(path)) {
        await removeTree(path);
      }
    }
    return removed;
  }

  async #build(revision: Revision, write: (directory: string) => Promise<void | "read-only">): Promise<string> {
    const directory = this.directoryOf(revision);
    if (await exists(directory)) return directory;
    const temporary = join(this.root, `${TEMPORARY_PREFIX}${revision}-${randomBytes(4).toString("hex")}`);
    this.#temporaries.add(temporary);
    try {
      await mkdir(temporary, { recursive: true });
      if ((await write(temporary)) !== "read-only") await makeTreeReadOnly(temporary);
      await renameUnlessPresent(temporary, directory);
      return directory;
    } catch (error) {
      await removeTree(temporary);
      if (error instanceof FerryError) throw error;
      throw transient("CheckoutFailed", `could not write the artifact of ${revision} under ${this.root}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    } finally {
      this.#temporaries.delete(temporary);
    }
  }
}

/** Renames into place; when another process got there first, its artifact is the same commit, so ours goes. */
async function renameUnlessPresent(temporary: string, directory: string): Promise<void> {
  try {
    await rename(temporary, directory);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if ((code === "EEXIST" || code === "ENOTEMPTY") && (await exists(directory))) {
      await removeTree(temporary);
      return;
    }
    throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}
