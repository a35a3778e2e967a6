/** A ref of the remote as `git ls-remote` listed it. */
export interface RemoteRef {
  /** Full name, `refs/heads/main` or `refs/tags/v1`. */
  readonly name: string;
  /** The commit it points to, with annotated tags peeled. */
  readonly commit: string;
  /** For an annotated tag: the tag object's id (whose signature is the tag's); absent for branches and lightweight tags. */
  readonly tagObject?: string;
}

/**
 * Why a configured ref cannot be used, or undefined when it can. Follows the
 * rules of `git check-ref-format`, plus no leading dash, which git would read as an option.
 */
export function refProblem(ref: string): string | undefined {
  if (ref === "") return "ref is empty";
  const quoted = JSON.stringify(ref);
  if (ref.startsWith("-")) return `ref ${quoted} must not start with "-"`;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(ref)) return `ref ${quoted} contains a character git does not allow in ref names`;
  if (ref.includes("..") || ref.includes("@{") || ref.includes("//") || ref === "@") return `ref ${quoted} is not a valid ref name`;
  if (ref.endsWith("/") || ref.endsWith(".")) return `ref ${quoted} must not end with "/" or "."`;
  if (ref.split("/").some((part) => part.startsWith(".") || part.endsWith(".lock"))) {
    return `ref ${quoted} has a part that starts with "." or ends with ".lock"`;
  }
  return undefined;
}

/**
 * Full ref names a configured ref may mean, in the order they are tried: a
 * branch first, then a tag. A ref already spelled `refs/...` means only itself.
 */
export function candidateRefs(ref: string): readonly string[] {
  if (ref.startsWith("refs/")) return [ref];
  return [`refs/heads/${ref}`, `refs/tags/${ref}`];
}

/** Patterns for `git ls-remote`: each candidate and its peeled form, so annotated tags show their commit. */
export function lsRemotePatterns(ref: string): readonly string[] {
  return candidateRefs(ref).flatMap((name) => [name, `${name}^{}`]);
}

/**
 * Picks the ref's commit out of `git ls-remote` output. ls-remote patterns
 * match on the tail (`refs/heads/main` also matches `refs/x/refs/heads/main`),
 * so names are compared exactly here. Undefined when no candidate exists.
 */
export function resolveRemoteRef(lsRemoteOutput: string, ref: string): RemoteRef | undefined {
  const objects = new Map<string, string>();
  for (const line of lsRemoteOutput.split("\n")) {
    const match = /^([0-9a-f]{40}|[0-9a-f]{64})\t(\S+)$/.exec(line.trim());
    if (match?.[1] && match[2]) objects.set(match[2], match[1]);
  }
  for (const name of candidateRefs(ref)) {
    const object = objects.get(name);
    if (object === undefined) continue;
    const peeled = objects.get(`${name}^{}`);
    return peeled === undefined ? { name, commit: object } : { name, commit: peeled, ...(name.startsWith("refs/tags/") ? { tagObject: object } : {}) };
  }
  return undefined;
}
