import { access, constants } from "node:fs/promises";
import path from "node:path";

/**
 * The first of `names` found as an executable on PATH (or given as a path),
 * as its full path; undefined when none is installed.
 */
export async function findExecutable(names: readonly string[], searchPath = process.env["PATH"] ?? ""): Promise<string | undefined> {
  for (const name of names) {
    const candidates = name.includes("/") ? [name] : searchPath.split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, name));
    for (const candidate of candidates) {
      const ok = await access(candidate, constants.X_OK).then(
        () => true,
        () => false,
      );
      if (ok) return candidate;
    }
  }
  return undefined;
}
