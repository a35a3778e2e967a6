import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { test } from "node:test";
import { FerryError } from "../core/errors.js";
import { MANIFEST_ACCEPT, nextLink, parseBearerChallenge, parseRepository } from "./oci-registry.js";
import { watchSpecSchema } from "./watch-spec.js";
import { createWatcher } from "./watcher.js";
import type { TestServer } from "../../test/support/watch-test-support.js";
import { sendJson, startServer } from "../../test/support/watch-test-support.js";

const TOKEN = "anonymous-pull-token";
const digestOf = (text: string) => `sha256:${createHash("sha256").update(text).digest("hex")}`;

interface RegistryOptions {
  readonly tags: readonly string[];
  readonly pageSize?: number;
  /** Tag -> image creation time. */
  readonly created?: Readonly<Record<string, string>>;
  /** Answer 429 with this Retry-After to every tag-list request while set. */
  rateLimit?: string | undefined;
}

/**
 * A registry that behaves like Docker Hub for `team/web`: every /v2 call needs
 * a Bearer token from /token, tags come in pages linked by `Link`, manifests
 * are an index pointing at an image whose config holds `created`.
 */
function registry(options: RegistryOptions) {
  return (req: IncomingMessage, res: ServerResponse, base: string): void => {
    const url = new URL(req.url ?? "/", base);
    if (url.pathname === "/token") {
      if (url.searchParams.get("scope") !== "repository:team/web:pull" || url.searchParams.get("service") !== "test-registry") {
        res.writeHead(400).end("bad scope");
        return;
      }
      sendJson(req, res, { token: TOKEN, expires_in: 300 });
      return;
    }
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401, { "WWW-Authenticate": `Bearer realm="${base}/token",service="test-registry",scope="repository:team/web:pull"` }).end();
      return;
    }
    if (url.pathname === "/v2/team/web/tags/list") {
      if (options.rateLimit !== undefined) {
        res.writeHead(429, { "Retry-After": options.rateLimit }).end("slow down");
        return;
      }
      const n = Math.min(Number(url.searchParams.get("n") ?? 1000), options.pageSize ?? 1000);
      const last = url.searchParams.get("last");
      const start = last === null ? 0 : options.tags.indexOf(last) + 1;
      const page = options.tags.slice(start, start + n);
      const more = start + n < options.tags.length;
      const headers: Record<string, string> = more ? { Link: `</v2/team/web/tags/list?n=${n}&last=${encodeURIComponent(page[page.length - 1] ?? "")}>; rel="next"` } : {};
      sendJson(req, res, { name: "team/web", tags: page }, headers);
      return;
    }
    const manifest = /^\/v2\/team\/web\/manifests\/(.+)$/.exec(url.pathname);
    if (manifest) {
      const reference = decodeURIComponent(manifest[1] ?? "");
      const accept = req.headers.accept ?? "";
      if (reference.startsWith("sha256:image-")) {
        const tag = reference.slice("sha256:image-".length);
        sendJson(req, res, { mediaType: "application/vnd.oci.image.manifest.v1+json", config: { digest: `sha256:config-${tag}` } });
        return;
      }
      if (!options.tags.includes(reference)) {
        res.writeHead(404).end(JSON.stringify({ errors: [{ code: "MANIFEST_UNKNOWN" }] }));
        return;
      }
      // Without the index media type in Accept, a real registry would answer something else; this one refuses.
      if (!accept.includes("application/vnd.oci.image.index.v1+json")) {
        res.writeHead(406).end();
        return;
      }
      const index = JSON.stringify({
        mediaType: "application/vnd.oci.image.index.v1+json",
        manifests: [
          { digest: "sha256:image-arm", platform: { os: "linux", architecture: "arm64" } },
          { digest: `sha256:image-${reference}`, platform: { os: "linux", architecture: "amd64" } },
        ],
      });
      res.writeHead(200, { "Docker-Content-Digest": digestOf(index), "Content-Type": "application/vnd.oci.image.index.v1+json" });
      res.end(req.method === "HEAD" ? undefined : index);
      return;
    }
    const blob = /^\/v2\/team\/web\/blobs\/sha256:config-(.+)$/.exec(url.pathname);
    if (blob) {
      sendJson(req, res, { created: options.created?.[blob[1] ?? ""] ?? "2020-01-01T00:00:00Z", architecture: "amd64" });
      return;
    }
    res.writeHead(404).end();
  };
}

function ociWatcher(server: TestServer, policy: object = {}, now?: () => number) {
  const repository = `${server.base.replace("http://", "")}/team/web`;
  return createWatcher(watchSpecSchema.parse({ type: "oci", repository, insecure: true, policy }), now ? { now, random: () => 0 } : {});
}

const indexOf = (tag: string) =>
  JSON.stringify({
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [
      { digest: "sha256:image-arm", platform: { os: "linux", architecture: "arm64" } },
      { digest: `sha256:image-${tag}`, platform: { os: "linux", architecture: "amd64" } },
    ],
  });

test("tags are read across Link pages behind an anonymous token, and the winner's digest comes from a HEAD", async (t) => {
  const tags = ["1.0.0", "latest", "1.2.0", "v1.10.0", "2.0.0-rc.1", "1.9.0", "main-abc"];
  const server = await startServer(t, registry({ tags, pageSize: 3 }));
  const watcher = ociWatcher(server);
  assert.match(watcher.description, /^oci repository 127\.0\.0\.1:\d+\/team\/web$/);
  const repository = `${server.base.replace("http://", "")}/team/web`;
  assert.deepEqual(await watcher.latest(), { version: "v1.10.0", digest: digestOf(indexOf("v1.10.0")), url: `${repository}:v1.10.0@${digestOf(indexOf("v1.10.0"))}` });

  const tokenRequests = server.requests.filter((r) => r.url.startsWith("/token"));
  assert.equal(tokenRequests.length, 1, "the token is fetched once and reused");
  const pages = server.requests.filter((r) => r.url.startsWith("/v2/team/web/tags/list") && r.status === 200);
  assert.deepEqual(pages.map((r) => r.url), ["/v2/team/web/tags/list?n=1000", "/v2/team/web/tags/list?n=3&last=1.2.0", "/v2/team/web/tags/list?n=3&last=1.9.0"]);
  const head = server.requests.find((r) => r.method === "HEAD");
  assert.equal(head?.url, "/v2/team/web/manifests/v1.10.0");
  assert.equal(head?.headers.accept, MANIFEST_ACCEPT);
});

test("a second poll asks conditionally and reuses the cached pages on 304", async (t) => {
  const server = await startServer(t, registry({ tags: ["1.0.0", "1.1.0", "1.2.0"], pageSize: 2 }));
  const watcher = ociWatcher(server);
  assert.equal((await watcher.latest())?.version, "1.2.0");
  const before = server.requests.length;
  assert.equal((await watcher.latest())?.version, "1.2.0");
  const second = server.requests.slice(before).filter((r) => r.url.includes("/tags/list"));
  assert.equal(second.length, 2);
  assert.ok(second.every((r) => r.status === 304 && typeof r.headers["if-none-match"] === "string"), JSON.stringify(second.map((r) => r.status)));
});

test("a 429 with Retry-After: the watcher does not ask again before then, and says until when", async (t) => {
  const options: RegistryOptions = { tags: ["1.0.0"], rateLimit: "120" };
  const server = await startServer(t, registry(options));
  let now = Date.parse("2026-03-01T10:00:00Z");
  const watcher = ociWatcher(server, {}, () => now);
  await assert.rejects(watcher.latest(), (error) => {
    assert.ok(error instanceof FerryError);
    assert.equal(error.disposition, "transient");
    assert.match(error.message, /answered 429 \(Retry-After: 120\)/);
    return true;
  });
  options.rateLimit = undefined;
  const count = server.requests.length;
  now += 60_000;
  await assert.rejects(watcher.latest(), /not asking again before 2026-03-01T10:02:00\.000Z after 1 failure in a row/);
  assert.equal(server.requests.length, count, "no request is sent during the backoff");
  now += 60_000;
  assert.equal((await watcher.latest())?.version, "1.0.0");
});

test("newest-build orders tags by the created time of their image config", async (t) => {
  const created = { "main-aaa": "2026-01-03T00:00:00Z", "main-bbb": "2026-01-05T00:00:00Z", "main-ccc": "2026-01-04T00:00:00Z", "1.0.0": "2026-02-01T00:00:00Z" };
  const server = await startServer(t, registry({ tags: Object.keys(created), created }));
  const watcher = ociWatcher(server, { order: "newest-build", regex: "^main-(.+)$" });
  assert.deepEqual((await watcher.latest())?.version, "bbb");
  const configs = server.requests.filter((r) => r.url.includes("/blobs/")).length;
  assert.equal(configs, 3, "only the tags the regex admits are read");
  await watcher.latest();
  assert.equal(server.requests.filter((r) => r.url.includes("/blobs/")).length, configs, "build times are remembered per tag");
});

test("a repository the registry does not know is a stalled error naming it", async (t) => {
  const server = await startServer(t, (req, res) => res.writeHead(404).end('{"errors":[{"code":"NAME_UNKNOWN"}]}'));
  await assert.rejects(ociWatcher(server).latest(), (error) => {
    assert.ok(error instanceof FerryError);
    assert.equal(error.disposition, "stalled");
    assert.equal(error.reason, "WatchSourceNotFound");
    assert.match(error.message, /^oci repository 127\.0\.0\.1:\d+\/team\/web: GET http:\/\/127\.0\.0\.1:\d+\/v2\/team\/web\/tags\/list\?n=1000 answered 404: .*NAME_UNKNOWN/);
    return true;
  });
});

test("repository names, Bearer challenges and Link headers are read as registries write them", () => {
  assert.deepEqual(parseRepository("nginx", false), { host: "registry-1.docker.io", name: "library/nginx", base: "https://registry-1.docker.io" });
  assert.deepEqual(parseRepository("docker.io/library/nginx", false).name, "library/nginx");
  assert.deepEqual(parseRepository("ghcr.io/org/team/app", false), { host: "ghcr.io", name: "org/team/app", base: "https://ghcr.io" });
  assert.deepEqual(parseRepository("localhost:5000/web", true), { host: "localhost:5000", name: "web", base: "http://localhost:5000" });
  assert.deepEqual(parseBearerChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"'), {
    realm: "https://auth.docker.io/token",
    service: "registry.docker.io",
    scope: "repository:library/nginx:pull",
  });
  assert.equal(parseBearerChallenge('Basic realm="x"'), undefined);
  assert.equal(nextLink('</v2/x/tags/list?n=2&last=b>; rel="next"', "https://r.io/v2/x/tags/list?n=2"), "https://r.io/v2/x/tags/list?n=2&last=b");
  assert.equal(nextLink(null, "https://r.io/"), undefined);
});
