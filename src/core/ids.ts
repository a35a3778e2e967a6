/**
 * Branded identifiers. They are plain strings at run time; the brand keeps a
 * Revision from being passed where a ResourceKey is expected.
 */
declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** Identifies one object on a target: `group/Kind/namespace/name` (empty parts stay empty). */
export type ResourceKey = Brand<string, "ResourceKey">;
/** A full git commit id (40 or 64 hex characters). */
export type Revision = Brand<string, "Revision">;
/** A content digest, `sha256:<hex>`. */
export type Digest = Brand<string, "Digest">;

/** Parts of a resource key. */
export interface ResourceRef {
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

/** Returns the API group of an apiVersion (`host.ferry.dev/v1` -> `host.ferry.dev`, `v1` -> ``). */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash === -1 ? "" : apiVersion.slice(0, slash);
}

/** Builds the key of an object from its apiVersion, kind, namespace and name. */
export function resourceKey(apiVersion: string, kind: string, name: string, namespace = ""): ResourceKey {
  return `${groupOf(apiVersion)}/${kind}/${namespace}/${name}` as ResourceKey;
}

/** Splits a key back into its parts. */
export function parseResourceKey(key: ResourceKey): ResourceRef {
  const [group = "", kind = "", namespace = "", ...rest] = key.split("/");
  return { group, kind, namespace, name: rest.join("/") };
}

/** A short form for people: `Kind/name` or `Kind/namespace/name`. */
export function displayKey(key: ResourceKey): string {
  const ref = parseResourceKey(key);
  return ref.namespace ? `${ref.kind}/${ref.namespace}/${ref.name}` : `${ref.kind}/${ref.name}`;
}

/** Marks a checked string as a Revision. */
export function asRevision(value: string): Revision {
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(value)) throw new TypeError(`not a full commit id: ${JSON.stringify(value)}`);
  return value as Revision;
}

/** Marks a checked string as a Digest. */
export function asDigest(value: string): Digest {
  if (!/^sha256:[0-9a-f]{64}$/.test(value)) throw new TypeError(`not a sha256 digest: ${JSON.stringify(value)}`);
  return value as Digest;
}

/** The first 8 characters of a revision, as people read them. */
export function shortRevision(revision: Revision | string): string {
  return revision.slice(0, 8);
}
