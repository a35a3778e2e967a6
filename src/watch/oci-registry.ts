import { createHash } from "node:crypto";
import { stalled } from "../core/errors.js";
import type { HttpAnswer } from "./polite-http.js";
import type { PoliteHttp } from "./polite-http.js";

/** Every manifest form a registry may hold for a tag: image indexes and manifest lists first, as `docker pull` asks. */
export const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

/** Where an image repository lives: `docker.io/library/nginx` -> registry-1.docker.io, `library/nginx`. */
export interface RepositoryRef {
  /** The host (and port) the API is spoken to. */
  readonly host: string;
  /** The repository name inside the registry. */
  readonly name: string;
  /** `https://host` or, when insecure, `http://host`. */
  readonly base: string;
}

/** Splits a repository as users write it into registry host and name; no host means Docker Hub. */
export function parseRepository(repository: string, insecure: boolean): RepositoryRef {
  const slash = repository.indexOf("/");
  const first = slash === -1 ? "" : repository.slice(0, slash);
  const hasHost = first.includes(".") || first.includes(":") || first === "localhost";
  let host = hasHost ? first : "docker.io";
  let name = hasHost ? repository.slice(slash + 1) : repository;
  if (host === "docker.io" || host === "index.docker.io") {
    host = "registry-1.docker.io";
    if (!name.includes("/")) name = `library/${name}`;
  }
  return { host, name, base: `${insecure ? "http" : "https"}://${host}` };
}

interface Token {
  readonly value: string;
  readonly expiresAt: number;
}

/**
 * The registry HTTP API v2 for one repository, anonymously: a 401 with a
 * `WWW-Authenticate: Bearer realm=...,service=...,scope=...` challenge is
 * answered by asking the realm for a pull token (the flow Docker Hub and
 * GHCR use) and retrying once; the token is reused until it expires.
 */
export class RegistryClient {
  private token: Token | undefined;

  constructor(
    readonly ref: RepositoryRef,
    private readonly http: PoliteHttp,
    private readonly source: string,
    private readonly now: () => number,
  ) {}

  /** Every tag, following `Link: <...>; rel="next"` pages. */
  async listTags(signal?: AbortSignal): Promise<string[]> {
    const tags: string[] = [];
    let url: string | undefined = `${this.ref.base}/v2/${this.ref.name}/tags/list?n=1000`;
    for (let page = 0; url !== undefined; page += 1) {
      if (page >= 1000) throw stalled("WatchSourceInvalid", `${this.source}: the tag list goes on for more than 1000 pages`);
      const answer = await this.send(url, "GET", "application/json", signal);
      if (answer.status !== 200) throw this.http.statusError(answer, "GET");
      const body = parseJson(answer.text, this.source, "the tag list");
      const list = typeof body === "object" && body !== null ? (body as { tags?: unknown }).tags : undefined;
      // A repository with no tags may answer `"tags": null`.
      if (Array.isArray(list)) for (const tag of list) if (typeof tag === "string") tags.push(tag);
      url = nextLink(answer.headers.get("Link"), answer.url);
    }
    return tags;
  }

  /** The digest of a tag's manifest: `Docker-Content-Digest` of a HEAD, else the sha256 of the manifest a GET returns. */
  async manifestDigest(tag: string, signal?: AbortSignal): Promise<string> {
    const url = `${this.ref.base}/v2/${this.ref.name}/manifests/${encodeURIComponent(tag)}`;
    const head = await this.send(url, "HEAD", MANIFEST_ACCEPT, signal);
    const header = head.headers.get("Docker-Content-Digest");
    if (head.status === 200 && header !== null && /^sha256:[0-9a-f]{64}$/.test(header)) return header;
    if (head.status !== 200 && head.status !== 405) throw this.http.statusError(head, "HEAD");
    const get = await this.send(url, "GET", MANIFEST_ACCEPT, signal);
    if (get.status !== 200) throw this.http.statusError(get, "GET");
    return get.headers.get("Docker-Content-Digest") ?? `sha256:${createHash("sha256").update(get.text).digest("hex")}`;
  }

  /**
   * When the image a tag names was built: the `created` time of its config.
   * For an index, the linux/amd64 image (else the first) is read.
   */
  async createdAt(tag: string, signal?: AbortSignal): Promise<number | undefined> {
    let manifest = await this.getJson(`/manifests/${encodeURIComponent(tag)}`, MANIFEST_ACCEPT, signal);
    const manifests = (manifest as { manifests?: unknown }).manifests;
    if (Array.isArray(manifests)) {
      const entries = manifests as { digest?: unknown; platform?: { os?: unknown; architecture?: unknown } }[];
      const chosen = entries.find((m) => m.platform?.os === "linux" && m.platform.architecture === "amd64") ?? entries[0];
      if (typeof chosen?.digest !== "string") return undefined;
      manifest = await this.getJson(`/manifests/${chosen.digest}`, MANIFEST_ACCEPT, signal);
    }
    const config = (manifest as { config?: { digest?: unknown } }).config?.digest;
    if (typeof config !== "string") return undefined;
    const image = await this.getJson(`/blobs/${config}`, "application/json, */*", signal);
    const created = (image as { created?: unknown }).created;
    const time = typeof created === "string" ? Date.parse(created) : Number.NaN;
    return Number.isNaN(time) ? undefined : time;
  }

  private async getJson(path: string, accept: string, signal?: AbortSignal): Promise<object> {
    const answer = await this.send(`${this.ref.base}/v2/${this.ref.name}${path}`, "GET", accept, signal);
    if (answer.status !== 200) throw this.http.statusError(answer, "GET");
    const body = parseJson(answer.text, this.source, path);
    return typeof body === "object" && body !== null ? body : {};
  }

  /** One request with the current token; on a Bearer challenge, a new token and one retry. */
  private async send(url: string, method: "GET" | "HEAD", accept: string, signal?: AbortSignal): Promise<HttpAnswer> {
    const first = await this.http.request(url, { method, headers: this.headers(accept), signal });
    if (first.status !== 401) return first;
    const challenge = first.headers.get("WWW-Authenticate");
    const bearer = challenge === null ? undefined : parseBearerChallenge(challenge);
    if (!bearer) {
      throw stalled("WatchUnauthorized", `${this.source}: the registry asks for credentials (${challenge ?? "no challenge"}); only anonymous pulls are supported`);
    }
    await this.fetchToken(bearer, signal);
    return this.http.request(url, { method, headers: this.headers(accept), signal });
  }

  private headers(accept: string): Record<string, string> {
    const headers: Record<string, string> = { Accept: accept };
    if (this.token && this.token.expiresAt > this.now()) headers["Authorization"] = `Bearer ${this.token.value}`;
    return headers;
  }

  private async fetchToken(challenge: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<void> {
    const realm = challenge["realm"];
    if (realm === undefined) throw stalled("WatchUnauthorized", `${this.source}: the registry's Bearer challenge has no realm`);
    const url = new URL(realm);
    if (challenge["service"] !== undefined) url.searchParams.set("service", challenge["service"]);
    url.searchParams.set("scope", challenge["scope"] ?? `repository:${this.ref.name}:pull`);
    const answer = await this.http.request(url.toString(), { headers: { Accept: "application/json" }, signal });
    if (answer.status !== 200) {
      const error = this.http.statusError(answer, "GET");
      throw stalled("WatchUnauthorized", `${this.source}: no anonymous pull token: ${error.message}`);
    }
    const body = parseJson(answer.text, this.source, "the token answer") as { token?: unknown; access_token?: unknown; expires_in?: unknown };
    const value = typeof body.token === "string" ? body.token : typeof body.access_token === "string" ? body.access_token : undefined;
    if (value === undefined) throw stalled("WatchUnauthorized", `${this.source}: the token answer holds no token`);
    const seconds = typeof body.expires_in === "number" && body.expires_in > 0 ? body.expires_in : 60;
    this.token = { value, expiresAt: this.now() + Math.max(1, seconds - 5) * 1000 };
  }
}

/** `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"` -> its parameters. */
export function parseBearerChallenge(header: string): Record<string, string> | undefined {
  const match = /^\s*Bearer\s+(.*)$/i.exec(header);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  for (const part of (match[1] ?? "").matchAll(/([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    const [, key = "", quoted, bare] = part;
    params[key.toLowerCase()] = quoted !== undefined ? quoted.replace(/\\(.)/g, "$1") : (bare ?? "");
  }
  return params;
}

/** The `rel="next"` target of a Link header, resolved against the URL of the page; undefined on the last page. */
export function nextLink(header: string | null, pageUrl: string): string | undefined {
  if (header === null) return undefined;
  for (const part of header.split(",")) {
    const match = /<([^>]*)>\s*;(.*)/.exec(part);
    if (match && /rel\s*=\s*"?next"?/i.test(match[2] ?? "")) return new URL(match[1] ?? "", pageUrl).toString();
  }
  return undefined;
}

function parseJson(text: string, source: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw stalled("WatchSourceInvalid", `${source}: ${what} is not JSON: ${(cause as Error).message}`, { cause });
  }
}
