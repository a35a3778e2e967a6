import { resolve } from "node:path";
import type { PushedArtifact } from "../webhooks/registry-notice.js";
import type { WatchSpec } from "./watch-spec.js";

/**
 * Whether a pushed artifact is what a `watch:` block watches: the same image
 * repository (Docker Hub names as `docker.io/library/x`; a notification
 * without a registry host matches any host), the same npm package, the same
 * directory (resolved against `baseDir`) or the same index URL. Pure.
 */
export function watchesArtifact(spec: WatchSpec, artifact: PushedArtifact, baseDir: string): boolean {
  switch (spec.type) {
    case "oci": {
      const watched = imageOf(spec.repository);
      const pushed = artifact.host !== undefined ? { host: registryHost(artifact.host), path: dockerPath(registryHost(artifact.host), artifact.name.toLowerCase()) } : imageOf(artifact.name, true);
      return watched.path === pushed.path && (pushed.host === undefined || pushed.host === watched.host);
    }
    case "npm":
      return artifact.name === spec.package;
    case "directory":
      return resolve(baseDir, spec.path) === resolve(baseDir, artifact.name);
    case "http":
      return trimSlash(artifact.name) === trimSlash(spec.url);
  }
}

/** Host and path of an image repository; without a host, Docker Hub (or, for a notification, any host). */
function imageOf(name: string, anyHost = false): { host?: string; path: string } {
  const value = name.toLowerCase().replace(/^[a-z]+:\/\//, "");
  const [first = "", ...rest] = value.split("/");
  if (rest.length > 0 && (first.includes(".") || first.includes(":") || first === "localhost")) {
    const host = registryHost(first);
    return { host, path: dockerPath(host, rest.join("/")) };
  }
  return anyHost ? { path: dockerPath("docker.io", value) } : { host: "docker.io", path: dockerPath("docker.io", value) };
}

function registryHost(host: string): string {
  const h = host.toLowerCase();
  return h === "registry-1.docker.io" || h === "index.docker.io" ? "docker.io" : h;
}

/** Docker Hub's official images live under `library/`. */
function dockerPath(host: string, path: string): string {
  return host === "docker.io" && !path.includes("/") ? `library/${path}` : path;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}
