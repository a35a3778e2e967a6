import { stalled } from "../core/errors.js";
import { PoliteHttp, redact } from "./polite-http.js";
import type { Candidate } from "./version-policy.js";
import { selectNewest } from "./version-policy.js";
import type { WatchSpec } from "./watch-spec.js";
import type { ResolvedWatcherOptions, Watcher } from "./watcher.js";

type HttpSpec = Extract<WatchSpec, { type: "http" }>;

interface IndexEntry {
  readonly url?: string;
  readonly digest?: string;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * Watches an HTTP JSON index of versions. The list (found at `versions`, else
 * the document itself when it is a list, else its `versions` field) holds
 * strings (`"2.0.0"`) or objects `{ version, url?, digest?, published? }`:
 * `url` may be relative to the index, `digest` is `sha256:<hex>`, `published`
 * (or `created`) an ISO time used by `order: newest-build`. Entries without a
 * usable version, or with a malformed digest, are ignored.
 */
export function createHttpIndexWatcher(spec: HttpSpec, options: ResolvedWatcherOptions): Watcher {
  const description = `http index ${redact(spec.url)}`;
  const http = new PoliteHttp(description, options.fetch, options.now);
  return {
    description,
    async latest(signal) {
      const { body, answer } = await http.getJson(spec.url, { Accept: "application/json", ...spec.headers }, signal);
      const list = findList(body, spec.versions);
      if (!Array.isArray(list)) {
        const where = spec.versions === undefined ? "the document (or its `versions` field)" : `${JSON.stringify(spec.versions)}`;
        throw stalled("WatchSourceInvalid", `${description}: ${where} is not a list of versions`);
      }
      const candidates: Candidate<IndexEntry>[] = [];
      for (const item of list) {
        const candidate = toCandidate(item, answer.url);
        if (candidate) candidates.push(candidate);
      }
      const newest = selectNewest(candidates, spec.policy);
      if (!newest) return undefined;
      const data = newest.candidate.data ?? {};
      return { version: newest.version, ...(data.digest ? { digest: data.digest } : {}), ...(data.url ? { url: data.url } : {}) };
    },
  };
}

/** The value at a JSON pointer (`/data/releases`) or dotted path (`data.releases`); the default list when no path is given. */
export function findList(document: unknown, where: string | undefined): unknown {
  if (where === undefined || where === "" || where === "/") {
    if (Array.isArray(document)) return document;
    return isRecord(document) ? document["versions"] : undefined;
  }
  const parts = where.startsWith("/")
    ? where
        .slice(1)
        .split("/")
        .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
    : where.split(".");
  let value: unknown = document;
  for (const part of parts) {
    if (Array.isArray(value) && /^\d+$/.test(part)) value = value[Number(part)];
    else if (isRecord(value)) value = value[part];
    else return undefined;
  }
  return value;
}

function toCandidate(item: unknown, indexUrl: string): Candidate<IndexEntry> | undefined {
  if (typeof item === "string" && item !== "") return { name: item, data: {} };
  if (!isRecord(item) || typeof item["version"] !== "string" || item["version"] === "") return undefined;
  const digest = item["digest"];
  if (digest !== undefined && (typeof digest !== "string" || !DIGEST.test(digest))) return undefined;
  let url: string | undefined;
  if (typeof item["url"] === "string") {
    try {
      url = new URL(item["url"], indexUrl).toString();
    } catch {
      return undefined;
    }
  }
  const time = item["published"] ?? item["created"];
  const builtAt = typeof time === "string" ? Date.parse(time) : Number.NaN;
  return {
    name: item["version"],
    ...(Number.isNaN(builtAt) ? {} : { builtAt }),
    data: { ...(url ? { url } : {}), ...(typeof digest === "string" ? { digest } : {}) },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
