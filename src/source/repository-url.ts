import { createHash } from "node:crypto";
import { isAbsolute, posix, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
/** `user@host:path` or `host:path`: git reads these as ssh. A one-letter "host" is a Windows drive. */
const SCP_LIKE = /^[^/:]{2,}:/;

/**
 * Why a configured repository cannot be used, or undefined when it can.
 * Pure, so configuration checks can report it with a file and line.
 */
export function repositoryProblem(repository: string): string | undefined {
  const value = repository.trim();
  if (value === "") return "repository is empty";
  // git reads a leading dash as an option (`--upload-pack=...`), never as a repository.
  if (value.startsWith("-")) return `repository ${JSON.stringify(redactSecrets(value))} must not start with "-"`;
  if (/[\0\r\n]/.test(value)) return "repository contains a control character";
  return undefined;
}

/**
 * The form git is given and fetchers are shared by: URLs (https, ssh, file)
 * and scp-like `git@host:path` stay as written without trailing slashes; local
 * paths become absolute `file://` URLs, because only those fetch shallowly.
 */
export function normalizeRepositoryUrl(repository: string, cwd: string = process.cwd()): string {
  const value = repository.trim();
  if (SCHEME.test(value) || (SCP_LIKE.test(value) && !isAbsolute(value))) return trimTrailingSlashes(value);
  return trimTrailingSlashes(pathToFileURL(resolve(cwd, value)).href);
}

/** True for `./x` and `../x`: a repository named relative to the one that declares it. */
export function isRelativeRepository(repository: string): boolean {
  return /^\.\.?\//.test(repository.trim());
}

/**
 * A repository named in a repository (an Application's `source.repoURL`),
 * as git resolves a relative submodule URL: `./x` and `../x` are relative to
 * the declaring repository's own URL or path (`../apps` beside
 * `https://git.example.com/org/config` is `https://git.example.com/org/apps`;
 * beside `/srv/git/config`, `/srv/git/apps`), whatever directory the agent
 * runs in. Anything else is returned as written.
 */
export function resolveRepositoryUrl(repository: string, declaringRepository: string, cwd: string = process.cwd()): string {
  const value = repository.trim();
  if (!isRelativeRepository(value)) return value;
  const base = normalizeRepositoryUrl(declaringRepository, cwd);
  if (SCHEME.test(base)) {
    // The declaring URL is the directory the relative one starts from (git: ./x is <url>/x).
    const url = new URL(value, `${base}/`);
    return trimTrailingSlashes(url.href);
  }
  // scp-like git@host:path: the path part resolves the same way, posix style.
  const colon = base.indexOf(":");
  const host = base.slice(0, colon);
  const path = base.slice(colon + 1);
  const joined = posix.normalize(posix.join(path === "" ? "." : path, value));
  return trimTrailingSlashes(`${host}:${joined}`);
}

function trimTrailingSlashes(url: string): string {
  let end = url.length;
  while (end > 0 && url[end - 1] === "/") end--;
  const trimmed = url.slice(0, end);
  // `file:///` is the root itself, not a path with a trailing slash.
  return trimmed.endsWith(":") ? url : trimmed;
}

/** A short, stable directory name for one repository: the first 16 hex digits of sha256(url). */
export function repositoryKey(normalizedUrl: string): string {
  return createHash("sha256").update(normalizedUrl).digest("hex").slice(0, 16);
}

/**
 * Masks credentials in any URL inside `text`: `https://token@host` and
 * `https://user:password@host` keep at most the user name. Used on every
 * message that may name a repository, because errors end up in logs and history.
 */
export function redactSecrets(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)([^/@\s]+)@/gi, (_match, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(":");
    if (colon !== -1) return `${scheme}${userinfo.slice(0, colon)}:***@`;
    // A lone user name over http is usually a token; over ssh it is just the account (`git`).
    return /^https?:\/\//i.test(scheme) ? `${scheme}***@` : `${scheme}${userinfo}@`;
  });
}
