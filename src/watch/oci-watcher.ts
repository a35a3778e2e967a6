import { FerryError } from "../core/errors.js";
import { parseRepository, RegistryClient } from "./oci-registry.js";
import { PoliteHttp } from "./polite-http.js";
import type { Candidate } from "./version-policy.js";
import { admitVersion, selectNewest } from "./version-policy.js";
import type { WatchSpec } from "./watch-spec.js";
import type { ResolvedWatcherOptions, Watcher } from "./watcher.js";

type OciSpec = Extract<WatchSpec, { type: "oci" }>;

/**
 * Watches the tags of an image repository through the registry HTTP API v2.
 * Under `order: semver` only the tag list is read (every page, conditionally)
 * and one HEAD gives the winner's manifest digest. Under `newest-build` the
 * image config's `created` time of every tag the policy admits is read once
 * and remembered (tags are taken as immutable for this), so narrow the tags
 * with a regex where a repository holds many.
 */
export function createOciWatcher(spec: OciSpec, options: ResolvedWatcherOptions): Watcher {
  const ref = parseRepository(spec.repository, spec.insecure);
  const description = `oci repository ${spec.repository}`;
  const client = new RegistryClient(ref, new PoliteHttp(description, options.fetch, options.now), description, options.now);
  const created = new Map<string, number | undefined>();

  return {
    description,
    async latest(signal) {
      const tags = await client.listTags(signal);
      const candidates: Candidate[] = [];
      for (const tag of tags) {
        if (spec.policy.order === "newest-build") {
          if (admitVersion(tag, spec.policy) === undefined) continue;
          if (!created.has(tag)) created.set(tag, await createdAtOrNone(client, tag, signal));
          const builtAt = created.get(tag);
          candidates.push({ name: tag, ...(builtAt === undefined ? {} : { builtAt }) });
        } else candidates.push({ name: tag });
      }
      const newest = selectNewest(candidates, spec.policy);
      if (!newest) return undefined;
      const tag = newest.candidate.name;
      const digest = await client.manifestDigest(tag, signal);
      return { version: newest.version, digest, url: `${spec.repository}:${tag}@${digest}` };
    },
  };
}

/** A tag deleted between the listing and this read has no build time; it is left out rather than failing the poll. */
async function createdAtOrNone(client: RegistryClient, tag: string, signal?: AbortSignal): Promise<number | undefined> {
  try {
    return await client.createdAt(tag, signal);
  } catch (error) {
    if (error instanceof FerryError && error.reason === "WatchSourceNotFound") return undefined;
    throw error;
  }
}
