import { resourceKey } from "../../src/core/ids.js";
import type { Manifest, RenderedObject } from "../../src/core/objects.js";

/**
 * Wraps a manifest into a rendered object for tests: the key comes from its
 * apiVersion, kind, namespace and name, and the origin is the first line of
 * `file` (default `test.yaml`) with no field positions.
 */
export function makeObject(manifest: Manifest, file = "test.yaml"): RenderedObject {
  const { apiVersion, kind, metadata } = manifest;
  return {
    key: resourceKey(apiVersion, kind, metadata.name, metadata.namespace),
    manifest,
    origin: { file, line: 1, column: 1, document: 0, positions: {} },
  };
}
