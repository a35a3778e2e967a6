import { lstat, realpath } from "node:fs/promises";
import path from "node:path";

/** True when `child` is `parent` or lies below it (both absolute and normalized). */
export function isInside(parent: string, child: string): boolean {
  const relative = path.relative(parent, child);
  return relative === "" || (!relative.startsWith(`..${path.sep}`) && relative !== ".." && !path.isAbsolute(relative));
}

/**
 * Resolves a path written in a spec against the allowed root: relative paths
 * are taken from the root, absolute ones must already lie inside it. Returns
 * undefined when the path escapes the root. Pure: symlinks are checked at apply.
 */
export function resolveUnderRoot(root: string, written: string): string | undefined {
  const resolved = path.resolve(root, written);
  return isInside(root, resolved) ? resolved : undefined;
}

/**
 * Resolves `contentFrom` of a File: a path relative to the directory of the
 * manifest that declares it (`manifestFile` is relative to the artifact
 * directory). Returns undefined when it is absolute or escapes the artifact.
 */
export function resolveInArtifact(artifactDirectory: string, manifestFile: string, written: string): string | undefined {
  if (path.isAbsolute(written)) return undefined;
  const resolved = path.resolve(artifactDirectory, path.dirname(manifestFile), written);
  return isInside(artifactDirectory, resolved) ? resolved : undefined;
}

/**
 * Follows symlinks along `target` (which may not exist yet) and tells whether
 * its real location stays inside the real `root`. The deepest existing
 * ancestor is resolved; the part that does not exist yet cannot be a link.
 */
export async function staysInsideRealRoot(root: string, target: string): Promise<boolean> {
  const realRoot = await realpath(root);
  let existing = target;
  const rest: string[] = [];
  for (;;) {
    if (await exists(existing)) break;
    const parent = path.dirname(existing);
    if (parent === existing) return false;
    rest.unshift(path.basename(existing));
    existing = parent;
  }
  let real: string;
  try {
    real = await realpath(existing);
  } catch {
    // A dangling symlink: wherever it points, it is not a place we can vouch for.
    return false;
  }
  return isInside(realRoot, path.join(real, ...rest));
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}
