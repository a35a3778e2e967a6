import assert from "node:assert/strict";
import { test } from "node:test";
import type { Manifest } from "./objects.js";
import { imageTag, versionsOf } from "./versions.js";

const manifest = (extra: Record<string, unknown>, metadata: Record<string, unknown> = {}): Manifest =>
  ({ apiVersion: "v1", kind: "Thing", metadata: { name: "x", ...metadata }, ...extra }) as Manifest;

test("reads the version label, the annotation and container image tags", () => {
  const versions = versionsOf([
    manifest({}, { labels: { "app.kubernetes.io/version": "1.4.2" } }),
    manifest({}, { annotations: { "ferry.dev/version": "2.0.0" } }),
    manifest({ spec: { template: { spec: { containers: [{ image: "registry:5000/team/api:3.1" }, { image: "busybox" }] } } } }),
    manifest({ spec: { jobTemplate: { spec: { template: { spec: { initContainers: [{ image: "migrate:7@sha256:abc" }] } } } } } }),
    manifest({ spec: { containers: [{ image: "nginx:1.27" }] } }),
    manifest({}, { labels: { "app.kubernetes.io/version": "1.4.2" } }),
  ]);
  assert.deepEqual(versions, ["1.27", "1.4.2", "2.0.0", "3.1", "7"]);
});

test("finds no version where none is declared", () => {
  assert.deepEqual(versionsOf([manifest({ spec: { command: "node" } })]), []);
});

test("tells a tag from a registry port", () => {
  assert.equal(imageTag("localhost:5000/app"), undefined);
  assert.equal(imageTag("localhost:5000/app:v2"), "v2");
  assert.equal(imageTag("app@sha256:0123"), undefined);
  assert.equal(imageTag("app:"), undefined);
});
