import { z } from "zod";

/**
 * Checks for the fields that end up on a git command line or in a path:
 * they must not be able to leave the repository, smuggle an option into
 * git, or carry credentials into logs. Messages never echo a URL.
 */

/** `source.path`: a directory relative to the repository root, normalized to `a/b` (`.` for the root). */
export const sourcePathSchema = z
  .string()
  .min(1, "must not be empty: use . for the repository root")
  .superRefine((path, ctx) => {
    const problem = sourcePathProblem(path);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .meta({
    description: "Directory of the manifests, relative to the repository root (no .., not absolute).",
    examples: ["apps/web"],
    // The same rules for editors: not absolute, no backslash, no ".." segment.
    pattern: "^(?!/)(?![A-Za-z]:)(?!.*\\\\)(?!(.*/)?\\.\\.(/|$)).+$",
  });

/** Why a source path is refused, or undefined when it is fine. */
export function sourcePathProblem(path: string): string | undefined {
  if (path.includes("\0")) return "must not contain a NUL character";
  if (path.includes("\\")) return 'use forward slashes ("/") in paths';
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path)) return "must be relative to the repository root, not absolute";
  if (path.split("/").includes("..")) return 'must stay inside the repository: ".." is not allowed';
  return undefined;
}

/** `apps//web/` and `./apps/web` -> `apps/web`; the root is `.`. */
export function normalizeSourcePath(path: string): string {
  return path.split("/").filter((s) => s !== "" && s !== ".").join("/") || ".";
}

/** `source.repoURL`: a URL or path git can fetch; no options, no command transports, no credentials. */
export const repoUrlSchema = z
  .string()
  .min(1, "must not be empty: leave it out to use the config repository")
  .superRefine((url, ctx) => {
    const problem = repoUrlProblem(url);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .meta({
    description:
      "Another repository to read the manifests from: a URL (https://, ssh://, file://), git@host:path, an absolute path, or ./x and ../x relative to the repository that declares it (as git resolves relative submodule URLs); default: the config repository.",
    examples: ["https://github.com/acme/web.git", "../web"],
  });

/** Why a repository URL is refused, or undefined when it is fine. */
export function repoUrlProblem(url: string): string | undefined {
  if (url.startsWith("-")) return 'must not start with "-"';
  if (hasSpaceOrControl(url)) return "must not contain spaces or control characters";
  if (/^(ext|fd)::/i.test(url)) return "the ext:: and fd:: transports run commands and are not allowed";
  // A bare relative path would depend on the agent's working directory; git submodules refuse it too.
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !/^[^/:]{2,}:/.test(url) && !url.startsWith("/") && !/^\.\.?\//.test(url)) {
    return "a relative repository starts with ./ or ../ and is resolved against the repository that declares it (as git resolves relative submodule URLs): write ../<name> for one beside it";
  }
  // ssh://git@host is a user name; user:secret@ anywhere, or anything@ over http(s), is a credential (tokens go there).
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/@]*:[^/@]*@/i.test(url) || /^https?:\/\/[^/]*@/i.test(url)) {
    return "must not contain credentials: give the agent a git credential helper or an ssh key instead";
  }
  return undefined;
}

/** `source.ref`: a branch or tag name as git allows them (and not an option). */
export const gitRefSchema = z
  .string()
  .min(1, "must not be empty: leave it out to use the config repository's ref")
  .superRefine((ref, ctx) => {
    if (!isGitRefName(ref)) ctx.addIssue({ code: "custom", message: `not a valid branch or tag name: ${JSON.stringify(ref.slice(0, 80))}` });
  })
  .meta({ description: "Branch or tag; default: the ref of the config repository.", examples: ["main", "v1.2.0"] });

/** True for names `git check-ref-format` accepts, minus a leading "-" (read as an option). */
export function isGitRefName(ref: string): boolean {
  if (ref.startsWith("-") || ref.startsWith("/") || ref.endsWith("/") || ref.endsWith(".") || ref.endsWith(".lock")) return false;
  if (ref.includes("..") || ref.includes("//") || ref.includes("@{") || ref === "@") return false;
  if (hasSpaceOrControl(ref) || /[~^:?*[\\]/.test(ref)) return false;
  return ref.split("/").every((part) => part !== "" && !part.startsWith("."));
}

function hasSpaceOrControl(text: string): boolean {
  return /\s/.test(text) || [...text].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
}
