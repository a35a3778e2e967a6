/**
 * How the host target tells its objects apart: by kind, namespace and name.
 * Objects of the default namespace (no `metadata.namespace`, or `default`)
 * keep the plain name as their id, so records, logs and inventories written
 * before namespaces existed stay theirs; any other namespace is part of the
 * id (`dev/web`), of the record's and the log's path, and of the default
 * working directory. Names and namespaces hold no `/`, so ids never clash.
 */
import type { Manifest } from "../../core/objects.js";

/** The namespace of host objects that name none. */
export const DEFAULT_HOST_NAMESPACE = "default";

/** The id of a host object: `name` in the default namespace, else `namespace/name`. */
export function hostId(namespace: string | undefined, name: string): string {
  const ns = normalizeHostNamespace(namespace);
  return ns === undefined ? name : `${ns}/${name}`;
}

/** The namespace (undefined: the default one) and the name of an id. */
export function splitHostId(id: string): { readonly namespace?: string; readonly name: string } {
  const slash = id.indexOf("/");
  return slash === -1 ? { name: id } : { namespace: id.slice(0, slash), name: id.slice(slash + 1) };
}

/** The id of a host object's manifest. */
export function hostIdOf(manifest: Manifest): string {
  return hostId(manifest.metadata.namespace, manifest.metadata.name);
}

/** Undefined for the default namespace (absent, empty or `default`), else the namespace. */
export function normalizeHostNamespace(namespace: string | undefined): string | undefined {
  return namespace === undefined || namespace === "" || namespace === DEFAULT_HOST_NAMESPACE ? undefined : namespace;
}
