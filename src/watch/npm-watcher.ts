import { createHash } from "node:crypto";
import { FerryError, stalled, transient } from "../core/errors.js";
import { PoliteHttp, redact } from "./polite-http.js";
import type { Candidate } from "./version-policy.js";
import { selectNewest } from "./version-policy.js";
import type { WatchSpec } from "./watch-spec.js";
import type { DiscoveredVersion, ResolvedWatcherOptions, Watcher } from "./watcher.js";

type NpmSpec = Extract<WatchSpec, { type: "npm" }>;

/** The abbreviated packument, as `npm install` asks for it. */
const ABBREVIATED = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*";

interface Dist {
  readonly tarball: string;
  readonly integrity?: string;
  readonly shasum?: string;
}

/**
 * Watches a package of an npm registry. It reads the abbreviated packument
 * (the form `npm install` reads), or the full one under `order: newest-build`,
 * which alone carries publish times. Dist-tags are ignored unless `distTag`
 * names one. The winner's tarball is downloaded once, checked against the
 * registry's integrity (sha512, else the sha1 shasum), and its sha256 is the
 * digest, so a host Service can run the package as its artifact.
 */
export function createNpmWatcher(spec: NpmSpec, options: ResolvedWatcherOptions): Watcher {
  const registry = spec.registry.replace(/\/+$/, "");
  const description = `npm package ${spec.package} (${redact(registry)})`;
  const http = new PoliteHttp(description, options.fetch, options.now);
  const packumentUrl = `${registry}/${spec.package.replace("/", "%2f")}`;
  const digests = new Map<string, string>();

  async function sha256Of(version: string, dist: Dist, signal?: AbortSignal): Promise<string> {
    const key = `${dist.tarball} ${dist.integrity ?? dist.shasum ?? ""}`;
    const known = digests.get(key);
    if (known) return known;
    let bytes: Buffer;
    try {
      const response = await options.fetch(dist.tarball, { signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(300_000)]) : AbortSignal.timeout(300_000) });
      if (!response.ok) {
        await response.body?.cancel();
        const message = `${description}: the tarball of ${version} (${redact(dist.tarball)}) answered ${response.status}`;
        throw response.status >= 500 || response.status === 429 ? transient("WatchSourceUnavailable", message) : stalled("WatchSourceNotFound", message);
      }
      bytes = Buffer.from(await response.arrayBuffer());
    } catch (error) {
      if (signal?.aborted || error instanceof FerryError) throw error;
      throw transient("WatchSourceUnavailable", `${description}: cannot download the tarball of ${version}: ${(error as Error).message}`, { cause: error });
    }
    checkIntegrity(description, version, dist, bytes);
    const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    digests.set(key, digest);
    return digest;
  }

  return {
    description,
    async latest(signal) {
      const accept = spec.policy.order === "newest-build" ? "application/json" : ABBREVIATED;
      const { body } = await http.getJson(packumentUrl, { Accept: accept }, signal);
      const versions = isRecord(body) && isRecord(body["versions"]) ? body["versions"] : undefined;
      if (!versions) throw stalled("WatchSourceInvalid", `${description}: the registry's answer has no versions`);
      const times = isRecord(body) && isRecord(body["time"]) ? body["time"] : {};
      let names = Object.keys(versions);
      if (spec.distTag !== undefined) {
        const tags = isRecord(body) && isRecord(body["dist-tags"]) ? body["dist-tags"] : {};
        const tagged = tags[spec.distTag];
        if (typeof tagged !== "string") throw stalled("WatchSourceInvalid", `${description}: there is no dist-tag ${JSON.stringify(spec.distTag)}`);
        names = names.filter((name) => name === tagged);
      }
      const candidates: Candidate<Dist>[] = [];
      for (const name of names) {
        const dist = distOf(versions[name]);
        if (!dist) continue;
        const time = times[name];
        const builtAt = typeof time === "string" ? Date.parse(time) : Number.NaN;
        candidates.push({ name, ...(Number.isNaN(builtAt) ? {} : { builtAt }), data: dist });
      }
      const newest = selectNewest(candidates, spec.policy);
      if (!newest?.candidate.data) return undefined;
      const dist = newest.candidate.data;
      const found: DiscoveredVersion = { version: newest.version, digest: await sha256Of(newest.candidate.name, dist, signal), url: dist.tarball };
      return found;
    },
  };
}

/** Checks downloaded bytes against the registry's sha512 integrity, else its sha1 shasum. */
function checkIntegrity(description: string, version: string, dist: Dist, bytes: Buffer): void {
  const sri = dist.integrity
    ?.split(/\s+/)
    .map((entry) => /^(sha512|sha384|sha256)-([A-Za-z0-9+/=]+)/.exec(entry))
    .find((match) => match !== null);
  if (sri) {
    const [, algorithm = "sha512", expected = ""] = sri;
    const actual = createHash(algorithm).update(bytes).digest("base64");
    if (actual !== expected) {
      throw stalled("WatchIntegrityMismatch", `${description}: the tarball of ${version} has integrity ${algorithm}-${actual}, not the registry's ${algorithm}-${expected}`);
    }
    return;
  }
  if (dist.shasum) {
    const actual = createHash("sha1").update(bytes).digest("hex");
    if (actual !== dist.shasum) throw stalled("WatchIntegrityMismatch", `${description}: the tarball of ${version} has sha1 ${actual}, not the registry's ${dist.shasum}`);
  }
}

function distOf(manifest: unknown): Dist | undefined {
  if (!isRecord(manifest) || !isRecord(manifest["dist"])) return undefined;
  const dist = manifest["dist"];
  if (typeof dist["tarball"] !== "string") return undefined;
  return {
    tarball: dist["tarball"],
    ...(typeof dist["integrity"] === "string" ? { integrity: dist["integrity"] } : {}),
    ...(typeof dist["shasum"] === "string" ? { shasum: dist["shasum"] } : {}),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
