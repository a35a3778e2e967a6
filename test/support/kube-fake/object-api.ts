// The verbs on objects (get, list, create, update, patch, apply, delete), with
// the real server's checks and errors, over the store. No HTTP here: the
// server parses requests into these calls and writes their results.
import { parse as parseYaml } from "yaml";
import { defaultListKeys } from "./defaults.js";
import type { Writer } from "./managed-fields.js";
import { jsonPatch, mergePatch, strategicMergePatch } from "./patches.js";
import type { Selector } from "./selectors.js";
import { serverSideApply } from "./server-side-apply.js";
import {
  alreadyExists,
  ApiError,
  badRequest,
  deleteSuccess,
  methodNotAllowed,
  namespaceTerminating,
  notFound,
  staleConflict,
  unsupportedMediaType,
} from "./status.js";
import type { ObjectStore } from "./store.js";
import { resourceKey } from "./store.js";
import type { Json, JsonObject, ResourceType } from "./types.js";
import { apiVersionOf, clone, isObject, metadataOf, objectField, readMetadata, stringField } from "./types.js";
import { prepareWrite, timestamp } from "./write-object.js";
import { crdSchema, dropUnknownFields } from "./known-fields.js";
import { checkDecoding } from "./decoding.js";
import { CRD_RESOURCE, typeOfCrd } from "./registry.js";

/** What a request addresses: a type at a version, maybe a namespace, a name and a subresource. */
export interface Target {
  readonly type: ResourceType;
  readonly version: string;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  readonly subresource: string | undefined;
}

/** Options every write takes from its query (or DeleteOptions body). */
export interface WriteOptions {
  readonly dryRun: boolean;
  /** The field manager: the `fieldManager` parameter or the user agent's product. */
  readonly manager: string;
  readonly force: boolean;
  /** What to do with fields the server does not know: drop them silently, drop them with a warning, or refuse (400). */
  readonly fieldValidation: "Ignore" | "Warn" | "Strict";
}

/** A verb's result: the body and its HTTP status. */
export interface Outcome {
  readonly code: number;
  readonly body: JsonObject;
  /** Warnings for the response's Warning headers. */
  readonly warnings?: readonly string[];
}

/** Patch content types, as the real server lists them in its 415. */
export const PATCH_TYPES = ["application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml"];
const CUSTOM_PATCH_TYPES = PATCH_TYPES.filter((t) => !t.includes("strategic"));

const IGNORED_IN_APPLY = ["uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "selfLink", "namespace"];

/** Checks of the request being served (RBAC mode), beyond the authorization of its verb. */
export interface Admission {
  /** A server-side apply that creates the object is authorized as `create` too, as the real server does. */
  creating(t: Target): void;
  /** Every write's resulting object before it is stored (dry runs too): the RBAC escalation check. */
  writing(type: ResourceType, obj: JsonObject): void;
}

/** Namespaces the server refuses to delete. */
const IMMORTAL_NAMESPACES = ["default", "kube-system", "kube-public"];

/** The object API of the fake server. */
export class ObjectApi {
  /** Writes stored so far (creates, changes and deletions; no-ops and dry runs are not writes). */
  persisted = 0;
  /** Set by the HTTP server while it serves one request (the verbs run synchronously); unset for the fake's own writes. */
  admission: Admission | undefined;

  constructor(
    private readonly store: ObjectStore,
    private readonly afterStore: (type: ResourceType, obj: JsonObject | undefined, previous: JsonObject | undefined) => void,
  ) {}

  /** The object as served at a version: a copy with that apiVersion. */
  served(type: ResourceType, version: string, obj: JsonObject): JsonObject {
    const copy = clone(obj);
    copy["apiVersion"] = apiVersionOf(type.group, version);
    return copy;
  }

  stored(t: Target): JsonObject | undefined {
    return this.store.get(resourceKey(t.type.group, t.type.plural), t.namespace, t.name ?? "");
  }

  get(t: Target): Outcome {
    const obj = this.stored(t);
    if (!obj) throw notFound(t.type, t.name ?? "");
    return { code: 200, body: this.served(t.type, t.version, obj) };
  }

  list(t: Target, selectors: readonly Selector[]): Outcome {
    const items = this.store
      .list(resourceKey(t.type.group, t.type.plural), t.namespace)
      .filter((obj) => selectors.every((s) => s(obj)))
      .map((obj) => {
        const item = this.served(t.type, t.version, obj);
        // The real server leaves kind and apiVersion out of built-in list items.
        if (!t.type.custom) {
          delete item["apiVersion"];
          delete item["kind"];
        }
        return item;
      });
    return {
      code: 200,
      body: { kind: t.type.listKind, apiVersion: apiVersionOf(t.type.group, t.version), metadata: { resourceVersion: String(this.store.currentVersion) }, items },
    };
  }

  create(t: Target, body: Json, opts: WriteOptions): Outcome {
    if (t.subresource !== undefined || t.name !== undefined) throw methodNotAllowed();
    const obj = this.checkBody(t, body);
    const warnings = this.checkFields(t, obj, opts, false);
    const meta = metadataOf(obj);
    const name = stringField(meta, "name") ?? "";
    this.checkNamespace(t, name);
    if (name !== "" && this.store.get(resourceKey(t.type.group, t.type.plural), t.namespace, name)) throw alreadyExists(t.type, name);
    const prepared = prepareWrite({ type: t.type, namespace: t.namespace, before: undefined, after: obj, writer: this.writer(t, opts), managers: undefined, now: timestamp() });
    const finalName = stringField(metadataOf(prepared), "name") ?? "";
    if (this.store.get(resourceKey(t.type.group, t.type.plural), t.namespace, finalName)) throw alreadyExists(t.type, finalName);
    return { code: 201, body: this.served(t.type, t.version, this.persist(t.type, undefined, prepared, opts.dryRun)), warnings };
  }

  update(t: Target, body: Json, opts: WriteOptions): Outcome {
    const obj = this.checkBody(t, body);
    const before = this.existing(t);
    this.checkName(t, obj);
    this.checkPrecondition(t, before, obj);
    const warnings = this.checkFields(t, obj, opts, false);
    const prepared = prepareWrite({ type: t.type, namespace: t.namespace, before, after: obj, writer: this.writer(t, opts), managers: undefined, now: timestamp() });
    return { code: 200, body: this.served(t.type, t.version, this.persist(t.type, before, prepared, opts.dryRun)), warnings };
  }

  patch(t: Target, contentType: string, raw: string, opts: WriteOptions): Outcome {
    const mediaType = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
    if (mediaType === "application/apply-patch+yaml") return this.apply(t, raw, opts);
    const accepted = t.type.custom ? CUSTOM_PATCH_TYPES : PATCH_TYPES;
    if (!accepted.includes(mediaType)) throw unsupportedMediaType(mediaType, accepted);
    if (opts.force) throw badRequest("force flag must only be set for apply patches");
    const before = this.existing(t);
    const patch = parseJson(raw);
    const current = this.served(t.type, t.version, before);
    let patched: Json;
    if (mediaType === "application/merge-patch+json") {
      if (!isObject(patch)) throw badRequest("the patch must be a JSON object");
      patched = mergePatch(current, patch);
    } else if (mediaType === "application/json-patch+json") {
      patched = jsonPatch(current, patch);
    } else {
      if (!isObject(patch)) throw badRequest("the patch must be a JSON object");
      patched = strategicMergePatch(current, patch, { kind: t.type.kind, builtin: true });
    }
    const obj = this.checkBody(t, patched);
    this.checkName(t, obj);
    this.checkPrecondition(t, before, obj);
    const warnings = this.checkFields(t, obj, opts, false);
    const prepared = prepareWrite({ type: t.type, namespace: t.namespace, before, after: obj, writer: this.writer(t, opts), managers: undefined, now: timestamp() });
    return { code: 200, body: this.served(t.type, t.version, this.persist(t.type, before, prepared, opts.dryRun)), warnings };
  }

  /** Server-side apply (PATCH with application/apply-patch+yaml). */
  private apply(t: Target, raw: string, opts: WriteOptions): Outcome {
    if (!opts.manager) throw badRequest("PATCH, application/apply-patch+yaml requests must specify a fieldManager");
    let parsed: unknown;
    try {
      // JSON is YAML; clients that send JSON skip the slower YAML parser.
      parsed = raw.trimStart().startsWith("{") ? JSON.parse(raw) : parseYaml(raw);
    } catch (error) {
      try {
        parsed = parseYaml(raw);
      } catch {
        throw badRequest(`error decoding YAML: ${(error as Error).message}`);
      }
    }
    const applied = this.checkBody(t, parsed as Json, true);
    this.checkName(t, applied);
    const warnings = this.checkFields(t, applied, opts, true);
    const before = this.stored(t);
    if (!before) {
      if (t.subresource !== undefined) throw notFound(t.type, t.name ?? "");
      this.checkNamespace(t, t.name ?? "");
      this.admission?.creating(t);
    } else {
      this.checkPrecondition(t, before, applied);
    }
    const meta = metadataOf(applied);
    for (const key of IGNORED_IN_APPLY) delete meta[key];
    if (t.subresource === undefined && t.type.hasStatus) delete applied["status"];
    if (!t.type.custom) defaultListKeys(t.type.kind, applied);
    const writer = this.writer(t, opts);
    const now = timestamp();
    // serverSideApply copies what it merges into; a shallow copy sets the request's apiVersion.
    const base = before ? { ...before, apiVersion: apiVersionOf(t.type.group, t.version) } : undefined;
    const { object, managers } = serverSideApply(base, applied, t.type, writer, opts.force, now);
    const prepared = prepareWrite({ type: t.type, namespace: t.namespace, before, after: object, writer, managers, now });
    return { code: before ? 200 : 201, body: this.served(t.type, t.version, this.persist(t.type, before, prepared, opts.dryRun)), warnings };
  }

  /** GET of `/scale`: the autoscaling/v1 Scale of a Deployment, StatefulSet or ReplicaSet. */
  getScale(t: Target): Outcome {
    return { code: 200, body: scaleOf(this.existing(t)) };
  }

  /** PUT of `/scale`: sets the parent's spec.replicas (recorded for the manager with subresource "scale"). */
  writeScale(t: Target, body: Json, opts: WriteOptions): Outcome {
    if (!isObject(body)) throw badRequest("the body of the request must be a JSON or YAML object");
    if (body["kind"] !== undefined && body["kind"] !== "Scale") throw badRequest(`the kind in the data (${String(body["kind"])}) does not match the expected kind (Scale)`);
    const before = this.existing(t);
    const replicas = objectField(body, "spec")?.["replicas"] ?? 0;
    if (typeof replicas !== "number" || !Number.isInteger(replicas) || replicas < 0) {
      throw new ApiError(422, "Invalid", `Scale.autoscaling "${t.name ?? ""}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`, { name: t.name ?? "", group: "autoscaling", kind: "Scale" });
    }
    const obj = this.served(t.type, t.version, before);
    (objectField(obj, "spec") ?? (obj["spec"] = {}))["replicas"] = replicas;
    const wanted = stringField(objectField(body, "metadata"), "resourceVersion");
    if (wanted !== undefined && wanted !== "" && wanted !== stringField(readMetadata(before), "resourceVersion")) throw staleConflict(t.type, t.name ?? "");
    const prepared = prepareWrite({ type: t.type, namespace: t.namespace, before, after: obj, writer: this.writer(t, opts), managers: undefined, now: timestamp() });
    return { code: 200, body: scaleOf(this.persist(t.type, before, prepared, opts.dryRun)) };
  }

  /** PATCH of `/scale` (merge, JSON or strategic merge patch of the Scale), as `kubectl scale` sends it. */
  patchScale(t: Target, contentType: string, raw: string, opts: WriteOptions): Outcome {
    const mediaType = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
    if (!PATCH_TYPES.includes(mediaType) || mediaType === "application/apply-patch+yaml") throw unsupportedMediaType(mediaType, PATCH_TYPES.filter((p) => !p.includes("apply")));
    const current = scaleOf(this.existing(t));
    const patch = parseJson(raw);
    let patched: Json;
    if (mediaType === "application/json-patch+json") patched = jsonPatch(current, patch);
    else {
      if (!isObject(patch)) throw badRequest("the patch must be a JSON object");
      patched = mediaType === "application/merge-patch+json" ? mergePatch(current, patch) : strategicMergePatch(current, patch, { kind: "Scale", builtin: true });
    }
    return this.writeScale(t, patched, opts);
  }

  delete(t: Target, options: JsonObject, dryRun: boolean): Outcome {
    if (t.subresource !== undefined) throw methodNotAllowed();
    const before = this.existing(t);
    if (t.type.kind === "Namespace" && !t.type.custom && IMMORTAL_NAMESPACES.includes(t.name ?? "")) {
      // The NamespaceLifecycle admission plugin keeps these.
      throw new ApiError(403, "Forbidden", `namespaces "${t.name ?? ""}" is forbidden: this namespace may not be deleted`, { name: t.name ?? "", kind: "namespaces" });
    }
    const policy = options["propagationPolicy"];
    if (policy !== undefined && policy !== null && !["Orphan", "Background", "Foreground"].includes(String(policy))) {
      throw new ApiError(422, "Invalid", `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${String(policy)}": supported values: "Foreground", "Background", "Orphan", "nil"`);
    }
    const preconditions = objectField(options, "preconditions");
    const meta = readMetadata(before);
    if (preconditions && stringField(preconditions, "uid") !== undefined && stringField(preconditions, "uid") !== stringField(meta, "uid")) {
      throw new ApiError(409, "Conflict", `Precondition failed: UID in precondition: ${stringField(preconditions, "uid")}, UID in object meta: ${stringField(meta, "uid")}`);
    }
    if (preconditions && stringField(preconditions, "resourceVersion") !== undefined && stringField(preconditions, "resourceVersion") !== stringField(meta, "resourceVersion")) {
      throw staleConflict(t.type, t.name ?? "");
    }
    const finalizers = meta["finalizers"];
    const waits = (Array.isArray(finalizers) && finalizers.length > 0) || t.type.kind === "Namespace" && !t.type.custom;
    if (waits) {
      const marked = clone(before);
      const m = metadataOf(marked);
      m["deletionTimestamp"] ??= timestamp();
      m["deletionGracePeriodSeconds"] ??= 0;
      if (t.type.kind === "Namespace" && !t.type.custom) marked["status"] = { phase: "Terminating" };
      const stored = dryRun ? marked : this.persist(t.type, before, marked, false);
      return { code: 200, body: this.served(t.type, t.version, stored) };
    }
    if (dryRun) return { code: 200, body: this.deleteResult(t, before) };
    this.store.remove(resourceKey(t.type.group, t.type.plural), before);
    this.persisted++;
    this.afterStore(t.type, undefined, before);
    return { code: 200, body: this.deleteResult(t, before) };
  }

  deleteCollection(t: Target, selectors: readonly Selector[], options: JsonObject, dryRun: boolean): Outcome {
    const items = this.store.list(resourceKey(t.type.group, t.type.plural), t.namespace).filter((obj) => selectors.every((s) => s(obj)));
    for (const obj of items) {
      const meta = readMetadata(obj);
      this.delete({ ...t, namespace: stringField(meta, "namespace"), name: stringField(meta, "name") }, options, dryRun);
    }
    return { code: 200, body: { ...this.list(t, []).body, items: items.map((obj) => this.served(t.type, t.version, obj)) } };
  }

  /** Stores a prepared write (or, for a dry run, only returns it); a no-op stores nothing. */
  persist(type: ResourceType, before: JsonObject | undefined, prepared: JsonObject, dryRun: boolean): JsonObject {
    if (prepared !== before && readMetadata(prepared)["deletionTimestamp"] === undefined) this.admission?.writing(type, prepared);
    if (prepared === before || dryRun) return prepared;
    const key = resourceKey(type.group, type.plural);
    const meta = metadataOf(prepared);
    const finalizers = meta["finalizers"];
    this.persisted++;
    if (meta["deletionTimestamp"] !== undefined && (!Array.isArray(finalizers) || finalizers.length === 0) && !(type.kind === "Namespace" && !type.custom)) {
      const gone = this.store.remove(key, prepared);
      this.afterStore(type, undefined, before);
      return gone;
    }
    const stored = this.store.put(key, prepared);
    this.afterStore(type, stored, before);
    return stored;
  }

  private deleteResult(t: Target, obj: JsonObject): JsonObject {
    if (t.type.kind === "Pod" || t.type.custom) return this.served(t.type, t.version, obj);
    return deleteSuccess(t.type, t.name ?? "", stringField(objectField(obj, "metadata"), "uid") ?? "");
  }

  private existing(t: Target): JsonObject {
    const before = this.stored(t);
    if (!before) throw notFound(t.type, t.name ?? "");
    return before;
  }

  private writer(t: Target, opts: WriteOptions): Writer {
    return { manager: opts.manager, apiVersion: apiVersionOf(t.type.group, t.version), subresource: t.subresource };
  }

  /** The body must be an object of the URL's kind and apiVersion (apply must name them), in the URL's namespace. */
  private checkBody(t: Target, body: Json, requireType = false): JsonObject {
    if (!isObject(body)) throw badRequest("the body of the request must be a JSON or YAML object");
    const obj = clone(body);
    const expected = apiVersionOf(t.type.group, t.version);
    const apiVersion = obj["apiVersion"];
    const kind = obj["kind"];
    if (apiVersion !== undefined && apiVersion !== expected) {
      throw badRequest(`the API version in the data (${String(apiVersion)}) does not match the expected API version (${expected})`);
    }
    if (kind !== undefined && kind !== t.type.kind) {
      throw badRequest(`the kind in the data (${String(kind)}) does not match the expected kind (${t.type.kind})`);
    }
    if (requireType && (apiVersion === undefined || kind === undefined)) {
      throw badRequest(`invalid object type: apiVersion and kind are required in an apply configuration, got ${JSON.stringify(apiVersion ?? "")}, ${JSON.stringify(kind ?? "")}`);
    }
    // Elsewhere the URL supplies what the body leaves out, as the real server's decoder does.
    obj["apiVersion"] = expected;
    obj["kind"] = t.type.kind;
    checkDecoding(t.type, t.version, obj);
    if (obj["metadata"] !== undefined && !isObject(obj["metadata"])) throw badRequest("metadata must be an object");
    const namespace = stringField(metadataOf(obj), "namespace");
    if (t.type.namespaced && namespace !== undefined && namespace !== "" && namespace !== t.namespace) {
      throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
    }
    return obj;
  }

  /** Drops fields the server does not know, refusing them under fieldValidation=Strict; returns the warnings for Warn. */
  private checkFields(t: Target, obj: JsonObject, opts: WriteOptions, apply: boolean): string[] {
    const crd = t.type.custom ? this.store.list(CRD_RESOURCE, undefined).find((c) => typeOfCrd(c)?.plural === t.type.plural && typeOfCrd(c)?.group === t.type.group) : undefined;
    const unknown = dropUnknownFields(t.type, obj, crdSchema(crd, t.version));
    if (unknown.length === 0 || opts.fieldValidation === "Ignore") return [];
    if (opts.fieldValidation === "Strict") {
      if (apply) throw badRequest(unknown.map((u) => `.${u}: field not declared in schema`).join(", "));
      throw badRequest(`strict decoding error: ${unknown.map((u) => `unknown field "${u}"`).join(", ")}`);
    }
    return unknown.map((u) => `unknown field "${u}"`);
  }

  private checkName(t: Target, obj: JsonObject): void {
    const name = stringField(metadataOf(obj), "name");
    if (name !== undefined && name !== t.name) throw badRequest(`the name of the object (${name}) does not match the name on the URL (${t.name ?? ""})`);
  }

  private checkPrecondition(t: Target, before: JsonObject, obj: JsonObject): void {
    const wanted = stringField(metadataOf(obj), "resourceVersion");
    if (wanted !== undefined && wanted !== "" && wanted !== stringField(readMetadata(before), "resourceVersion")) throw staleConflict(t.type, t.name ?? "");
  }

  private checkNamespace(t: Target, name: string): void {
    if (!t.type.namespaced || t.namespace === undefined) return;
    const ns = this.store.get(resourceKey("", "namespaces"), undefined, t.namespace);
    if (!ns) throw new ApiError(404, "NotFound", `namespaces "${t.namespace}" not found`, { name: t.namespace, kind: "namespaces" });
    if (objectField(ns, "metadata")?.["deletionTimestamp"] !== undefined) throw namespaceTerminating(t.type, name, t.namespace);
  }
}

/** The autoscaling/v1 Scale of a workload: its spec.replicas, and status.replicas with the selector as a string. */
function scaleOf(obj: JsonObject): JsonObject {
  const meta = readMetadata(obj);
  const spec = objectField(obj, "spec");
  const status = objectField(obj, "status");
  const matchLabels = objectField(objectField(spec, "selector"), "matchLabels") ?? {};
  const metadata: JsonObject = {};
  for (const key of ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"]) if (meta[key] !== undefined) metadata[key] = meta[key] ?? null;
  return {
    kind: "Scale",
    apiVersion: "autoscaling/v1",
    metadata,
    spec: { replicas: typeof spec?.["replicas"] === "number" ? spec["replicas"] : 0 },
    status: {
      replicas: typeof status?.["replicas"] === "number" ? status["replicas"] : 0,
      selector: Object.entries(matchLabels).map(([k, v]) => `${k}=${String(v)}`).join(","),
    },
  };
}

function parseJson(raw: string): Json {
  try {
    return JSON.parse(raw) as Json;
  } catch (error) {
    throw badRequest(`error decoding patch: ${(error as Error).message}`);
  }
}
