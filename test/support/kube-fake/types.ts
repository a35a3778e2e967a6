// Shared types of the fake Kubernetes API server: plain JSON objects as the
// server stores them, and the description of one resource type.

/** A JSON value as the fake stores and serves it (mutable, unlike Ferry's core type). */
export type Json = null | boolean | number | string | Json[] | JsonObject;

/** A JSON object as the fake stores and serves it. */
export interface JsonObject {
  [key: string]: Json;
}

/** One resource type the server serves: what discovery lists and what a URL resolves to. */
export interface ResourceType {
  /** API group, "" for the core group. */
  readonly group: string;
  /** The versions served; the first is the preferred (and storage) version. */
  readonly versions: readonly string[];
  readonly plural: string;
  readonly singular: string;
  readonly kind: string;
  readonly listKind: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  /** Whether the type has a `/status` subresource (status is ignored on the main resource). */
  readonly hasStatus: boolean;
  /** Whether metadata.generation is kept and bumped on spec changes. */
  readonly hasGeneration: boolean;
  /** A custom resource served because a CRD declares it. */
  readonly custom: boolean;
  /** For a custom resource: its storage version's openAPIV3Schema, whose list types apply merges by. */
  readonly schema?: JsonObject;
}

/** The apiVersion string of a group and version: "v1" or "apps/v1". */
export function apiVersionOf(group: string, version: string): string {
  return group === "" ? version : `${group}/${version}`;
}

/** Splits an apiVersion string into group and version. */
export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? { group: "", version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** The resource as errors name it: "configmaps" or "deployments.apps". */
export function qualifiedResource(type: ResourceType): string {
  return type.group === "" ? type.plural : `${type.plural}.${type.group}`;
}

/** The kind as validation errors name it: "ConfigMap" or "Deployment.apps". */
export function qualifiedKind(type: ResourceType): string {
  return type.group === "" ? type.kind : `${type.kind}.${type.group}`;
}

/** True for a plain JSON object (not an array, not null). */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A deep copy of a JSON value (a plain walk: structuredClone is several times slower on JSON). */
export function clone<T extends Json>(value: T): T {
  if (Array.isArray(value)) return value.map((item) => clone(item)) as T;
  if (value !== null && typeof value === "object") {
    const out: JsonObject = {};
    for (const key of Object.keys(value)) {
      const item = (value as JsonObject)[key];
      if (item !== undefined) out[key] = clone(item);
    }
    return out as T;
  }
  return value;
}

/** Deep equality of two JSON values (object key order ignored). */
export function jsonEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    return keys.every((key) => key in b && jsonEqual(a[key], b[key]));
  }
  return false;
}

/** The object's metadata, created empty when absent. */
export function metadataOf(obj: JsonObject): JsonObject {
  const meta = obj["metadata"];
  if (isObject(meta)) return meta;
  const created: JsonObject = {};
  obj["metadata"] = created;
  return created;
}

/** The object's metadata for reading (an empty object when absent; never attached to the object). */
export function readMetadata(obj: JsonObject | undefined): JsonObject {
  const meta = obj?.["metadata"];
  return isObject(meta) ? meta : {};
}

/** A string field of an object, or undefined. */
export function stringField(obj: JsonObject | undefined, key: string): string | undefined {
  const value = obj?.[key];
  return typeof value === "string" ? value : undefined;
}

/** A child object of an object, or undefined. */
export function objectField(obj: JsonObject | undefined, key: string): JsonObject | undefined {
  const value = obj?.[key];
  return isObject(value) ? value : undefined;
}

/** Whether the type has a `/scale` subresource (autoscaling/v1 Scale), as Deployments, StatefulSets and ReplicaSets do. */
export function hasScale(type: ResourceType): boolean {
  return !type.custom && type.group === "apps" && ["Deployment", "StatefulSet", "ReplicaSet"].includes(type.kind);
}
