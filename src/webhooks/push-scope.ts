import { normalizeDir } from "../render/load-source.js";

/** One application of a pushed source, with the directories it renders from (its path and its overlay bases). */
export interface ScopedApplication {
  readonly name: string;
  readonly directories: readonly string[];
}

/** What a push with listed files touches in one source. */
export interface PushScope {
  /** The configuration's directory holds a changed file: reload it. */
  readonly config: boolean;
  /** Applications to run at the new revision. */
  readonly applications: readonly string[];
}

/**
 * Which applications of one source a push touches: those with a changed file
 * in one of their directories, and the configuration when a changed file is
 * in its directory. A changed file in none of them (a file read through
 * `contentFrom`, a script next to the manifests) may be read by any of them:
 * then every application of the source runs. Pure.
 */
export function scopePush(paths: readonly string[], applications: readonly ScopedApplication[], configPath?: string): PushScope {
  const inside = (file: string, dir: string): boolean => {
    const d = normalizeDir(dir);
    return d === "" || file === d || file.startsWith(`${d}/`);
  };
  const files = paths.map(normalizeDir);
  const config = configPath !== undefined && files.some((f) => inside(f, configPath));
  const touched = new Set<string>();
  let unattributed = false;
  for (const file of files) {
    const owners = applications.filter((a) => a.directories.some((d) => inside(file, d)));
    for (const owner of owners) touched.add(owner.name);
    if (owners.length === 0 && !(configPath !== undefined && inside(file, configPath))) unattributed = true;
  }
  const names = unattributed ? applications.map((a) => a.name) : applications.filter((a) => touched.has(a.name)).map((a) => a.name);
  return { config, applications: names };
}
