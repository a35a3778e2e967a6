import semver from "semver";
import type { VersionPolicy } from "./watch-spec.js";

/** One name a source offers (a tag, a file's version, an index entry), before the policy looks at it. */
export interface Candidate<T = unknown> {
  /** The name as the source spells it: a tag, the `{version}` part of a file name, a package version. */
  readonly name: string;
  /** When it was built or published (ms since the epoch), where the source knows. */
  readonly builtAt?: number;
  /** Whatever the watcher needs to turn the winner into a DiscoveredVersion. */
  readonly data?: T;
}

/** A candidate the policy admitted, with the version it stands for. */
export interface Admitted<T = unknown> {
  readonly version: string;
  readonly candidate: Candidate<T>;
}

/**
 * The version a name stands for under a policy, or undefined when the policy
 * ignores it: the regex must match (its `version` group, else its first
 * group, is the version); with `order: semver` or a range, the version must be
 * semver (a leading `v` is allowed) and inside the range. Without a range,
 * prereleases are left out as npm leaves them out of `*`.
 */
export function admitVersion(name: string, policy: VersionPolicy): string | undefined {
  let version = name;
  if (policy.regex !== undefined) {
    const match = new RegExp(policy.regex).exec(name);
    if (!match) return undefined;
    const captured = match.groups?.version ?? match[1];
    if (captured === undefined || captured === "") return undefined;
    version = captured;
  }
  if (policy.order === "semver" || policy.semver !== undefined) {
    const parsed = semver.parse(version);
    if (parsed === null) return undefined;
    if (!semver.satisfies(parsed, policy.semver ?? "*")) return undefined;
  }
  return version;
}

/**
 * The newest candidate the policy admits, or undefined when it admits none.
 * `semver`: the highest version (equal versions: the later name in sort order,
 * so `1.0.0` and `v1.0.0` give a stable answer). `newest-build`: the latest
 * build time; candidates without one are left out; ties go to the higher name.
 */
export function selectNewest<T>(candidates: Iterable<Candidate<T>>, policy: VersionPolicy): Admitted<T> | undefined {
  let best: Admitted<T> | undefined;
  for (const candidate of candidates) {
    const version = admitVersion(candidate.name, policy);
    if (version === undefined) continue;
    if (policy.order === "newest-build" && candidate.builtAt === undefined) continue;
    const admitted = { version, candidate };
    if (best === undefined || compareAdmitted(admitted, best, policy) > 0) best = admitted;
  }
  return best;
}

function compareAdmitted(a: Admitted<unknown>, b: Admitted<unknown>, policy: VersionPolicy): number {
  if (policy.order === "newest-build") {
    const byTime = (a.candidate.builtAt ?? 0) - (b.candidate.builtAt ?? 0);
    if (byTime !== 0) return byTime;
    return compareNames(a.version, b.version) || compareNames(a.candidate.name, b.candidate.name);
  }
  return semver.compare(a.version, b.version) || compareNames(a.candidate.name, b.candidate.name);
}

/** semver order where both parse, else plain string order. */
function compareNames(a: string, b: string): number {
  const pa = semver.parse(a);
  const pb = semver.parse(b);
  if (pa && pb) return semver.compare(pa, pb);
  return a < b ? -1 : a > b ? 1 : 0;
}
