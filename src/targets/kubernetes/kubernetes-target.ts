import { createHash } from "node:crypto";
import { stalled, transient } from "../../core/errors.js";
import type { Health } from "../../core/health.js";
import type { ResourceKey } from "../../core/ids.js";
import { displayKey, groupOf, parseResourceKey, resourceKey } from "../../core/ids.js";
import type { JsonObject, JsonValue } from "../../core/json.js";
import { canonicalJson, isJsonObject } from "../../core/json.js";
import type { RenderedObject } from "../../core/objects.js";
import { ANNOTATIONS } from "../../core/objects.js";
import type { ApplyOutcome, Comparable, LiveChange, LiveObject, ObjectContext, Target } from "../target.js";
import { applyError, conflictsOf, objectLabel } from "./api-errors.js";
import { assessKubernetesHealth } from "./health/kubernetes-health.js";
import { HealthRuleSet } from "./health/rule-set.js";
import { ignoredFields } from "./ignore-rules.js";
import type { KubeClient, ResourceType } from "./kube-client.js";
import { KubeClient as Client, statusMessage } from "./kube-client.js";
import type { CachedChange } from "./live-cache.js";
import { LiveCache, rvOf } from "./live-cache.js";
import { ownerOf, ownersOf } from "./managed-fields.js";
import { comparableOf, removePointer, setPointer, valueAtPointer } from "./normalize.js";
import { kubernetesTargetValidator, KUBERNETES_TARGET } from "./kubernetes-validator.js";
import { ADOPT_ANNOTATION, ADOPTED_BY_ANNOTATION, APPLICATION_LABEL, FIELD_MANAGER, OWNED_BY_ANNOTATION, RECREATE_ANNOTATION } from "./labels.js";
import { labelOf, ownershipOf, refuseIfForeignContent, releaseObject } from "./ownership.js";
import { ResourceTypes } from "./resource-types.js";
import { kubernetesRunnable, readJobRun, startJobRun } from "./job-runs.js";
import { kubernetesSecretFields } from "./secret-fields.js";

/** How the Kubernetes target reaches its cluster. */
export interface KubernetesTargetOptions {
  /** The client of one cluster (one kubeconfig context, or the cluster the agent runs in). */
  readonly client: KubeClient;
  /** Name Applications select it by: `kubernetes`, or `kubernetes@<context>` for another cluster. */
  readonly name?: string;
  /** How long a delete-and-recreate waits for the old object to go (default 30 s). */
  readonly recreateTimeoutMs?: number;
  /** The health rules in force, read at each assessment (default: the built-in rules). */
  readonly healthRules?: () => HealthRuleSet;
}

/** The Kubernetes target, with what tests and benchmarks look at. */
export interface KubernetesTarget extends Target {
  readonly client: KubeClient;
  /** Resource types watched right now. */
  readonly watchedTypes: number;
}

/** What the last comparison of one object found, kept so an unchanged object costs no request. */
interface Compared {
  readonly desiredHash: string;
  /** resourceVersion of the live object the dry run was made against; "" when it did not exist. */
  readonly liveRv: string;
  /** Digest of that live object in comparable form (canonical JSON): a newer one equal to it (only its status changed) compares the same. */
  readonly liveState: string;
  /** What the object would become, in comparable form, as canonical JSON (text holds a thousand objects in far less memory than parsed JSON). */
  readonly stateJson: string;
  /** The manifest the comparison sent, and an apply sends, as JSON. */
  readonly manifestJson: string;
  readonly ignored: readonly string[];
  /** Fields are taken from hand edits (Update managers) or by the application's policy. */
  readonly force: boolean;
  readonly application: string;
}

/** How long a GET's "not found" stands for the same object (one sync's describe, read and apply). */
const ABSENT_FOR_MS = 5_000;
/** At most this many absent objects are remembered at once. */
const ABSENT_LIMIT = 10_000;

/**
 * Creates the Kubernetes target over one cluster: server-side apply with the
 * field manager `ferry`, compared first by a dry-run apply so an object that
 * would not change is never written; live objects read from one watch per
 * resource type in use (label `ferry.dev/application`); health per kind.
 */
export function createKubernetesTarget(options: KubernetesTargetOptions): KubernetesTarget {
  const { client } = options;
  const name = options.name ?? KUBERNETES_TARGET;
  const healthOf = (object: JsonObject): Health => assessKubernetesHealth(object, options.healthRules?.() ?? HealthRuleSet.builtIn());
  const validator = kubernetesTargetValidator(name);
  const types = new ResourceTypes(client);
  const compared = new Map<ResourceKey, Compared>();
  /** `group/Kind` defined by CustomResourceDefinitions being applied, so their objects may wait for them. */
  const pendingKinds = new Set<string>();
  /** Namespaces declared by applications, so their objects may wait for them. */
  const pendingNamespaces = new Set<string>();
  const listeners = new Set<(change: LiveChange) => void>();
  const cache = new LiveCache(client, APPLICATION_LABEL, onCachedChange);

  function onCachedChange(change: CachedChange): void {
    if (change.object) forgetAbsent(change.type, change.namespace, change.name);
    const key = resourceKey(change.type.apiVersion, change.type.kind, change.name, change.namespace);
    const known = compared.get(key);
    if (listeners.size === 0) return;
    const owner = labelOf(change.object ?? change.previous) ?? known?.application;
    let message: string | undefined;
    if (!change.object) message = `${displayKey(key)} was deleted`;
    else if (!change.previous) message = undefined;
    else {
      const ignored = known?.ignored ?? [];
      const specChanged = canonicalJson(comparableOf(change.object, ignored)) !== canonicalJson(comparableOf(change.previous, ignored));
      const ours = known && known.liveRv === rvOf(change.object);
      if (specChanged && !ours) message = `${displayKey(key)} was changed outside ferry`;
      else if (healthOf(change.object).status !== healthOf(change.previous).status) {
        message = `health of ${displayKey(key)} changed`;
      }
    }
    if (!message) return;
    const event: LiveChange = { key, message, ...(owner ? { owner } : {}) };
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch {
        // One failing listener must not keep the others from hearing about the change.
      }
    }
  }

  /**
   * Paths a GET just found absent, and when. One sync asks about a new object
   * three times within moments (describe, read, apply); the first answer
   * stands for ABSENT_FOR_MS unless Ferry writes the object or the watch sees
   * it appear. (The label-selected watch cannot answer "absent": an object
   * without Ferry's label is not in it.)
   */
  const absent = new Map<string, number>();

  function forgetAbsent(type: ResourceType, namespace: string, objectName: string): void {
    absent.delete(Client.pathOf(type, namespace, objectName));
  }

  /** The live object: from the watch cache when the type is watched and holds it, else one GET (none for an object found absent just now). */
  async function liveOf(type: ResourceType, namespace: string, objectName: string): Promise<JsonObject | undefined> {
    await cache.ensure(type);
    const cached = cache.get(type, namespace, objectName);
    if (cached !== undefined && cached !== "unwatched") return cached;
    const path = Client.pathOf(type, namespace, objectName);
    const now = Date.now();
    const seen = absent.get(path);
    if (seen !== undefined && now - seen < ABSENT_FOR_MS) return undefined;
    const res = await client.request({ method: "GET", path });
    if (res.status === 404) {
      if (absent.size >= ABSENT_LIMIT) for (const [known, at] of absent) if (now - at >= ABSENT_FOR_MS) absent.delete(known);
      if (absent.size < ABSENT_LIMIT) absent.set(path, now);
      return undefined;
    }
    absent.delete(path);
    if (res.status >= 300 || !isJsonObject(res.body)) {
      throw transient("ApiServerError", `reading ${type.kind} ${namespace ? `${namespace}/` : ""}${objectName} answered ${res.status}: ${statusMessage(res.body)}`);
    }
    return { ...res.body, apiVersion: type.apiVersion, kind: type.kind };
  }

  /** The live object of an inventory key; undefined when it or its resource type does not exist. */
  async function liveOfKey(key: ResourceKey): Promise<JsonObject | undefined> {
    const ref = parseResourceKey(key);
    const type = await types.ofKey(ref.group, ref.kind);
    return type ? liveOf(type, ref.namespace, ref.name) : undefined;
  }

  /** Set once every resource type holding objects with Ferry's label is watched (see `owned`); dropped when it fails. */
  let swept: Promise<void> | undefined;

  /**
   * Watches every resource type that holds objects with Ferry's label: one
   * discovery and one small list per type, once in the agent's life (a type
   * its RBAC does not let it list is skipped: it applies nothing there).
   * Afterwards the watches keep the cache current.
   */
  function sweep(): Promise<void> {
    swept ??= (async () => {
      for (const type of await client.allResourceTypes()) {
        if (!type.listable || cache.watches(type)) continue;
        const res = await client.request({ method: "GET", path: Client.pathOf(type), query: { labelSelector: APPLICATION_LABEL, limit: "1" } });
        if (res.status >= 300 || !isJsonObject(res.body) || !Array.isArray(res.body.items) || res.body.items.length === 0) continue;
        await cache.ensure(type);
      }
    })().catch((error: unknown) => {
      // Asked again by the next run; the error (a timeout naming the cluster) is this run's.
      swept = undefined;
      throw error;
    });
    return swept;
  }

  async function typeOf(object: RenderedObject): Promise<ResourceType | undefined> {
    return types.ofManifest(object.manifest.apiVersion, object.manifest.kind);
  }

  async function requireType(object: RenderedObject): Promise<ResourceType> {
    const type = await typeOf(object);
    if (!type) {
      throw stalled(
        "UnknownResourceType",
        `${objectLabel(object)}: the cluster has no resource type ${object.manifest.kind} in ${object.manifest.apiVersion} (is its CustomResourceDefinition installed?)`,
      );
    }
    return type;
  }

  /**
   * The manifest Ferry sends: labelled with its application; for an existing
   * object, ignored fields are left to whoever owns them. One that only
   * Ferry owns (Git created it and nobody has taken it yet) is sent with its
   * live value: leaving it out would drop Ferry's ownership and let the
   * server remove or default it (replicas back to 1 before an autoscaler acts).
   */
  function manifestToSend(object: RenderedObject, type: ResourceType, context: ObjectContext, live: JsonObject | undefined, ignored: readonly string[], keepOwned = true): JsonObject {
    const metadata = object.manifest.metadata;
    const mark = ownershipOf(live, context.application) === "created" || live === undefined ? OWNED_BY_ANNOTATION : ADOPTED_BY_ANNOTATION;
    let manifest: JsonObject = {
      ...object.manifest,
      metadata: {
        ...metadata,
        ...(type.namespaced ? {} : { namespace: undefined }),
        labels: { ...(metadata.labels ?? {}), [APPLICATION_LABEL]: context.application },
        annotations: { ...(metadata.annotations ?? {}), [mark]: context.application },
      },
    };
    if (live) {
      for (const pointer of ignored) {
        const value = valueAtPointer(live, pointer);
        const owners = ownersOf(live, pointer);
        const onlyFerry = keepOwned && value !== undefined && owners.length > 0 && owners.every((o) => o.manager === FIELD_MANAGER);
        manifest = onlyFerry ? setPointer(manifest, pointer, value) : removePointer(manifest, pointer);
      }
    }
    return JSON.parse(JSON.stringify(manifest)) as JsonObject;
  }

  async function serverApply(type: ResourceType, object: RenderedObject, manifest: JsonObject, dryRun: boolean, force: boolean) {
    const namespace = type.namespaced ? (object.manifest.metadata.namespace ?? "") : "";
    return client.request({
      method: "PATCH",
      path: Client.pathOf(type, namespace, object.manifest.metadata.name),
      query: { fieldManager: FIELD_MANAGER, force: force ? "true" : undefined, dryRun: dryRun ? "All" : undefined },
      body: manifest,
      contentType: "application/apply-patch+yaml",
    });
  }

  /**
   * Compares by a dry-run apply: the answer is what the object would be after
   * Ferry's apply. A conflict with managers that only ever updated (hand
   * edits: kubectl edit, scale) is drift and Ferry takes its fields back;
   * a conflict with another applier is reported unless the application forces.
   */
  async function compare(object: RenderedObject, context: ObjectContext, read?: { readonly live: JsonObject | undefined }): Promise<Compared | "not-yet"> {
    if (object.manifest.kind === "CustomResourceDefinition") markDefinition(object);
    if (object.manifest.kind === "Namespace" && object.manifest.apiVersion === "v1") pendingNamespaces.add(object.manifest.metadata.name);
    const type = await typeOf(object);
    if (!type) {
      if (pendingKinds.has(`${groupOf(object.manifest.apiVersion)}/${object.manifest.kind}`)) return "not-yet";
      await requireType(object);
      return "not-yet";
    }
    const namespace = type.namespaced ? (object.manifest.metadata.namespace ?? "") : "";
    const live = read ? read.live : await liveOf(type, namespace, object.manifest.metadata.name);
    const ignored = ignoredFields(object, context.settings?.ignoreDifferences).map((f) => f.pointer);
    let manifest = manifestToSend(object, type, context, live, ignored);
    const desiredHash = hash(canonicalJson({ manifest, ignored, force: context.settings?.forceConflicts === true }));
    const liveRv = rvOf(live);
    const liveState = live ? hash(canonicalJson(comparableOf(live, ignored))) : "";
    const known = compared.get(object.key);
    // Unchanged on both sides since the last comparison (for an absent object: still absent): nothing to ask.
    const sameLive = known !== undefined && (known.liveRv === liveRv || (live !== undefined && known.liveState === liveState));
    if (known && sameLive && known.desiredHash === desiredHash && known.application === context.application) return known;
    let force = context.settings?.forceConflicts === true;
    let res = await serverApply(type, object, manifest, true, force);
    const released = res.status === 409 && live ? manifestToSend(object, type, context, live, ignored, false) : manifest;
    if (canonicalJson(released) !== canonicalJson(manifest)) {
      // Another manager has just taken an ignored field Ferry still held: it is theirs now, never forced back to a stale value.
      manifest = released;
      res = await serverApply(type, object, manifest, true, force);
    }
    if (res.status === 409 && !force && live && onlyHandEdits(live, conflictsOf(res.body).map((c) => c.manager))) {
      force = true;
      res = await serverApply(type, object, manifest, true, force);
    }
    if (res.status === 409 && !force) {
      // Another applier holds fields Git sets: compared as Ferry would leave the object if it took them, so the
      // diff shows those fields and who holds them; the apply itself reports the conflict (and is retried).
      const taken = await serverApply(type, object, manifest, true, true);
      if (taken.status < 300 && isJsonObject(taken.body)) res = taken;
    }
    const missingNamespace = res.status === 404 ? /namespaces "([^"]+)" not found/.exec(statusMessage(res.body))?.[1] : undefined;
    if (missingNamespace !== undefined) {
      // Its Namespace is applied first in this sync: compared as declared until then.
      if (pendingNamespaces.has(missingNamespace)) return "not-yet";
      throw transient("NamespaceNotFound", `${objectLabel(object)}: namespace ${JSON.stringify(missingNamespace)} does not exist; declare it in the application or wait for the application that creates it`);
    }
    if (res.status === 422 && live && wantsRecreate(object) && /immutable/i.test(statusMessage(res.body))) {
      // The object will be deleted and created again: compared as declared, so it differs from the live one.
      return { desiredHash, liveRv, liveState, stateJson: canonicalJson(comparableOf(manifest, ignored)), manifestJson: JSON.stringify(manifest), ignored, force, application: context.application };
    }
    if (res.status >= 300 || !isJsonObject(res.body)) throw applyError(object, res.status, res.body, "comparing", client.cluster);
    const result: Compared = { desiredHash, liveRv, liveState, stateJson: canonicalJson(comparableOf(res.body, ignored)), manifestJson: JSON.stringify(manifest), ignored, force, application: context.application };
    compared.set(object.key, result);
    return result;
  }

  function markDefinition(object: RenderedObject): void {
    const spec = object.manifest.spec;
    if (!isJsonObject(spec) || typeof spec.group !== "string" || !isJsonObject(spec.names) || typeof spec.names.kind !== "string") return;
    pendingKinds.add(`${spec.group}/${spec.names.kind}`);
  }

  /** Gives an adopted object back (see releaseObject) and forgets it. */
  async function release(type: ResourceType, path: string, key: ResourceKey): Promise<void> {
    await releaseObject(client, path, key);
    const ref = parseResourceKey(key);
    cache.remove(type, ref.namespace, ref.name);
    compared.delete(key);
  }

  async function recreate(type: ResourceType, object: RenderedObject): Promise<void> {
    const namespace = type.namespaced ? (object.manifest.metadata.namespace ?? "") : "";
    const path = Client.pathOf(type, namespace, object.manifest.metadata.name);
    const res = await client.request({ method: "DELETE", path, query: { propagationPolicy: "Foreground" } });
    if (res.status >= 300 && res.status !== 404) throw applyError(object, res.status, res.body, "deleting to recreate", client.cluster);
    const deadline = Date.now() + (options.recreateTimeoutMs ?? 30_000);
    for (;;) {
      const got = await client.request({ method: "GET", path });
      if (got.status === 404) break;
      if (Date.now() > deadline) throw transient("RecreateTimeout", `${objectLabel(object)}: the old object is still being deleted`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    cache.remove(type, namespace, object.manifest.metadata.name);
  }

  return {
    name,
    client,
    get watchedTypes() {
      return cache.watchedTypes;
    },
    supports: validator.supports,
    validate: validator.validate,
    ...(validator.withObjects ? { withObjects: validator.withObjects } : {}),
    prepare: validator.prepare,
    ignoredFields: (object, settings) => ignoredFields(object, settings?.ignoreDifferences),
    secretFields: kubernetesSecretFields,
    runnable: validator.runnable,

    async runJob(object, context, request) {
      const refused = kubernetesRunnable(object);
      if (refused !== undefined) throw stalled("NotRunnable", `${objectLabel(object)}: ${refused}`);
      return startJobRun(client, await requireType(object), object, context.application, request);
    },

    async jobRun(key, id) {
      const ref = parseResourceKey(key);
      const type = await types.ofKey(ref.group, ref.kind);
      return type ? readJobRun(client, type, ref.namespace, ref.name, id) : undefined;
    },

    async describe(object, context) {
      const result = await compare(object, context);
      // Its CustomResourceDefinition or Namespace is applied in this sync: compared as declared until the cluster has it.
      if (result === "not-yet") return comparableOf(JSON.parse(JSON.stringify(object.manifest)) as JsonObject);
      return JSON.parse(result.stateJson) as Comparable;
    },

    async explain(key, pointers) {
      const notes = new Map<string, string>();
      const live = await liveOfKey(key);
      if (!live) return notes;
      for (const pointer of pointers) {
        const owner = ownerOf(live, pointer, [FIELD_MANAGER]);
        if (owner) notes.set(pointer, `set by ${owner.manager} (${owner.operation})`);
      }
      return notes;
    },

    async read(keys) {
      const out = new Map<ResourceKey, LiveObject>();
      await Promise.all(
        keys.map(async (key) => {
          const live = await liveOfKey(key);
          if (!live) return;
          const owner = labelOf(live);
          const ignored = compared.get(key)?.ignored ?? [];
          out.set(key, { key, state: comparableOf(live, ignored), ...(owner ? { owner } : {}), ...(ignored.length > 0 ? { ignored: ignoredValues(live, ignored) } : {}) });
        }),
      );
      return new Map(keys.filter((k) => out.has(k)).map((k) => [k, out.get(k) as LiveObject]));
    },

    async owned(application) {
      // The application's label and Ferry's mark naming it: a label alone may have been copied by hand.
      await sweep();
      return cache
        .labelled(application)
        .filter(({ object }) => hasMark(object, application))
        .map(({ type, object }) => {
          const meta = isJsonObject(object.metadata) ? object.metadata : {};
          return resourceKey(type.apiVersion, type.kind, String(meta.name), type.namespaced && typeof meta.namespace === "string" ? meta.namespace : "");
        });
    },

    async apply(object, context): Promise<ApplyOutcome> {
      const type = await requireType(object);
      const namespace = type.namespaced ? (object.manifest.metadata.namespace ?? "") : "";
      const live = await liveOf(type, namespace, object.manifest.metadata.name);
      const owner = labelOf(live);
      if (owner !== undefined && owner !== context.application) {
        throw stalled("NotOwned", `cannot apply ${objectLabel(object)}: it belongs to application "${owner}", not "${context.application}"`);
      }
      const adopting = live !== undefined && ownershipOf(live, context.application) === "foreign";
      if (adopting && context.settings?.adopt !== true && object.manifest.metadata.annotations?.[ADOPT_ANNOTATION] !== "true") {
        // Retried: the object may be deleted, or the application told to adopt it (a new revision).
        throw transient(
          "NotAdopted",
          `${objectLabel(object)} exists already and was not created by ferry; it is left alone: set spec.kubernetes.adopt: true on application "${context.application}" or annotate it ${ADOPT_ANNOTATION}: "true" in Git to manage it (an adopted object is never pruned unless spec.kubernetes.pruneAdopted is true), or delete it from the cluster`,
        );
      }
      const result = await compare(object, context, { live });
      if (result === "not-yet") throw transient("NotYetServed", `${objectLabel(object)}: its namespace or resource type does not exist yet`);
      if (live && canonicalJson(comparableOf(live, result.ignored)) === result.stateJson) return "unchanged";
      const ignored = result.ignored;
      let res = await serverApply(type, object, JSON.parse(result.manifestJson) as JsonObject, false, result.force);
      if (res.status === 422 && live && wantsRecreate(object) && /immutable/i.test(statusMessage(res.body))) {
        await recreate(type, object);
        res = await serverApply(type, object, manifestToSend(object, type, context, undefined, ignored), false, result.force);
      }
      if (res.status >= 300 || !isJsonObject(res.body)) throw applyError(object, res.status, res.body, "applying", client.cluster);
      const applied = { ...res.body, apiVersion: type.apiVersion, kind: type.kind };
      forgetAbsent(type, namespace, object.manifest.metadata.name);
      cache.put(type, applied);
      const state = comparableOf(applied, ignored);
      const stateJson = canonicalJson(state);
      compared.set(object.key, { ...result, liveRv: rvOf(applied), liveState: hash(stateJson), stateJson });
      if (object.manifest.kind === "CustomResourceDefinition") types.forget();
      return adopting ? "adopted" : live ? "configured" : "created";
    },

    async delete(key, context) {
      const ref = parseResourceKey(key);
      const type = await types.ofKey(ref.group, ref.kind);
      if (!type) return "deleted";
      const live = await liveOf(type, ref.namespace, ref.name);
      // Never delete what Ferry did not create for this application: without its label the object is left alone.
      if (!live || labelOf(live) !== context.application) return "deleted";
      const path = Client.pathOf(type, ref.namespace, ref.name);
      if (ownershipOf(live, context.application) === "adopted" && context.settings?.pruneAdopted !== true) {
        await release(type, path, key);
        return "kept";
      }
      if (type.kind === "Namespace" && type.apiVersion === "v1") await refuseIfForeignContent(client, ref.name, context.application);
      const res = await client.request({ method: "DELETE", path, query: { propagationPolicy: "Background" } });
      if (res.status >= 300 && res.status !== 404) {
        throw transient("DeleteFailed", `deleting ${displayKey(key)}: ${client.cluster} answered ${res.status}: ${statusMessage(res.body)}`);
      }
      cache.remove(type, ref.namespace, ref.name);
      compared.delete(key);
      return "deleted";
    },

    async health(keys) {
      const out = new Map<ResourceKey, Health>();
      await Promise.all(
        keys.map(async (key) => {
          const live = await liveOfKey(key);
          out.set(key, live ? healthOf(live) : { status: "Missing", message: `${displayKey(key)} does not exist` });
        }),
      );
      return out;
    },

    watch(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    async close() {
      listeners.clear();
      cache.close();
      client.close();
    },
  };
}

/** The live values at the ignored pointers, in comparable form; a field the object lacks is absent. */
function ignoredValues(live: JsonObject, pointers: readonly string[]): Record<string, JsonValue> {
  const comparable = comparableOf(live);
  const out: Record<string, JsonValue> = {};
  for (const pointer of pointers) {
    const value = valueAtPointer(comparable, pointer);
    if (value !== undefined) out[pointer] = value;
  }
  return out;
}

/**
 * True when the object carries Ferry's owned-by or adopted-by mark naming the
 * application, and not `ferry.dev/prune: disabled`: such an object is left
 * running when it leaves Git, and taking it back would prune it after all.
 */
function hasMark(object: JsonObject, application: string): boolean {
  const meta = isJsonObject(object.metadata) ? object.metadata : {};
  const annotations = isJsonObject(meta.annotations) ? meta.annotations : {};
  if (annotations[ANNOTATIONS.prune] === "disabled") return false;
  return annotations[OWNED_BY_ANNOTATION] === application || annotations[ADOPTED_BY_ANNOTATION] === application;
}

function wantsRecreate(object: RenderedObject): boolean {
  return object.manifest.metadata.annotations?.[RECREATE_ANNOTATION] === "true";
}

/** True when every named manager only ever updated the object (a person's edit), none applied. */
function onlyHandEdits(live: JsonObject, managers: readonly string[]): boolean {
  const meta = isJsonObject(live.metadata) ? live.metadata : {};
  const entries = Array.isArray(meta.managedFields) ? meta.managedFields.filter(isJsonObject) : [];
  return managers.length > 0 && managers.every((m) => !entries.some((e) => e.manager === m && e.operation === "Apply"));
}

function hash(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
