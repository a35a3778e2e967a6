import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { WatchSpec } from "../watch/watch-spec.js";
import { watchesArtifact } from "../watch/watch-match.js";
import { pushedArtifacts } from "./registry-notice.js";

const policy = { order: "semver" as const };

describe("registry notifications", () => {
  it("reads Docker Distribution, Harbor, generic and npm hook bodies", () => {
    assert.deepEqual(
      pushedArtifacts({
        events: [
          { action: "pull", target: { repository: "team/web", tag: "1" } },
          { action: "push", target: { repository: "team/web", tag: "2.0.0" }, request: { host: "registry.example.com:5000" } },
        ],
      }),
      [{ name: "team/web", host: "registry.example.com:5000", version: "2.0.0" }],
    );
    assert.deepEqual(pushedArtifacts({ type: "PUSH_ARTIFACT", event_data: { repository: { repo_full_name: "library/web" }, resources: [{ tag: "v2" }] } }), [{ name: "library/web", version: "v2" }]);
    assert.deepEqual(pushedArtifacts({ repository: "/srv/artifacts", tag: "2.0.0" }), [{ name: "/srv/artifacts", version: "2.0.0" }]);
    assert.deepEqual(pushedArtifacts({ event: "package:publish", name: "@acme/web", version: "2.0.0" }), [{ name: "@acme/web", version: "2.0.0" }]);
  });

  it("says what is wrong with a body it cannot read", () => {
    assert.match(String(pushedArtifacts([])), /JSON object/);
    assert.match(String(pushedArtifacts({ events: "x" })), /events must be a list/);
    assert.match(String(pushedArtifacts({ events: [{ target: {} }] })), /events\[0\]\.target\.repository/);
    assert.match(String(pushedArtifacts({ tag: "1" })), /"repository"/);
  });

  it("matches a pushed artifact to the watchers that watch it", () => {
    const oci: WatchSpec = { type: "oci", repository: "registry.example.com:5000/team/web", insecure: false, policy };
    assert.equal(watchesArtifact(oci, { name: "team/web", host: "registry.example.com:5000" }, "/"), true);
    assert.equal(watchesArtifact(oci, { name: "team/web" }, "/"), true, "no host named: any registry");
    assert.equal(watchesArtifact(oci, { name: "team/web", host: "other.example.com" }, "/"), false);
    assert.equal(watchesArtifact(oci, { name: "registry.example.com:5000/team/api" }, "/"), false);
    const hub: WatchSpec = { type: "oci", repository: "nginx", insecure: false, policy };
    assert.equal(watchesArtifact(hub, { name: "library/nginx", host: "registry-1.docker.io" }, "/"), true);
    const npm: WatchSpec = { type: "npm", package: "@acme/web", registry: "https://registry.npmjs.org", policy };
    assert.equal(watchesArtifact(npm, { name: "@acme/web" }, "/"), true);
    assert.equal(watchesArtifact(npm, { name: "@acme/api" }, "/"), false);
    const dir: WatchSpec = { type: "directory", path: "artifacts", pattern: "web-{version}.tgz", policy };
    assert.equal(watchesArtifact(dir, { name: "/srv/artifacts/" }, "/srv"), true);
    assert.equal(watchesArtifact(dir, { name: "/srv/other" }, "/srv"), false);
  });
});
