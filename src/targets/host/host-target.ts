import { createHash } from "node:crypto";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { problemAt, stalled } from "../../core/errors.js";
import type { Health } from "../../core/health.js";
import type { ResourceKey } from "../../core/ids.js";
import { groupOf, parseResourceKey, resourceKey } from "../../core/ids.js";
import type { RenderedObject } from "../../core/objects.js";
import { locate } from "../../core/objects.js";
import type { LiveChange, LiveObject, Target, TargetValidator } from "../target.js";
import { artifactsInUse, createArtifactCache } from "./artifact-cache.js";
import { contentFromOf, createFileHandler } from "./file-kind.js";
import type { HostKind } from "./host-schemas.js";
import { HOST_API_VERSION, isHostKind } from "./host-schemas.js";
import { hostId, normalizeHostNamespace, splitHostId } from "./host-ids.js";
import { hostSecretFields } from "./host-secrets.js";
import { sharedPathProblems, validateHostObject } from "./host-validate.js";
import { createJobHandler, jobDesiredOf } from "./job-kind.js";
import type { JobRecord } from "./job-state.js";
import { JobRuns } from "./job-runs.js";
import type { HostEnvironment, KindHandler } from "./kind-handler.js";
import { assertOwner, nameOf, prepareToRun } from "./kind-handler.js";
import { processEnv } from "./service-supervisor.js";
import type { RecordSealer } from "./record-seal.js";
import { loadRecordSealer } from "./record-seal.js";
import { createServiceHandler } from "./service-kind.js";
import { createStateStore } from "./state-store.js";
import { DirectorySync } from "./atomic-write.js";

/** Where the host target works, and how often it looks. */
export interface HostTargetOptions {
  /** The allowed root: files are written under it and relative working directories start from it. */
  readonly root: string;
  /** Where the target keeps its records: pids, specs without their secret values, logs, job results. One target per directory at a time. */
  readonly stateDir: string;
  /** Name Applications select the target by (default `host`). */
  readonly name?: string;
  /** How often managed files in a directory that cannot be watched through file notifications are checked for outside edits (default 1000 ms). */
  readonly filePollIntervalMs?: number;
  /** How often a service started by an earlier agent is checked for life (default 500 ms). */
  readonly livenessPollMs?: number;
  /** A service that stayed up this long restarts its backoff from the beginning (default 10 s). */
  readonly backoffResetMs?: number;
}

/** The local machine as a target: Services, Files and Jobs of `host.ferry.dev/v1`. */
export interface HostTarget extends Target {
  readonly root: string;
  readonly stateDir: string;
  /** Stops every service and job this target runs (records stay, so an apply starts them again). */
  stopAll(): Promise<void>;
}

const HOST_GROUP = groupOf(HOST_API_VERSION);

/**
 * The host target's kinds and schemas, without the target: no directories are
 * made and nothing is started. Without a `root`, absolute paths are not judged
 * (`ferry validate` does not know where the agent will write). Pure.
 */
export function hostValidator(root?: string, name = "host"): TargetValidator {
  const validator = (context: readonly RenderedObject[]): TargetValidator => ({
    name,
    supports: (apiVersion, kind) => apiVersion === HOST_API_VERSION && isHostKind(kind),
    prepare: (objects, settings) => withHostNamespace(objects, settings.namespace),
    validate(object) {
      if (object.manifest.apiVersion !== HOST_API_VERSION) {
        const message = `apiVersion ${JSON.stringify(object.manifest.apiVersion)} is not managed by the host target (expected ${HOST_API_VERSION})`;
        return [problemAt(message, locate(object.origin, "/apiVersion"), "/apiVersion")];
      }
      return [...validateHostObject(object, root), ...sharedPathProblems(object, context, root)];
    },
    runnable(object) {
      if (object.manifest.apiVersion === HOST_API_VERSION && object.manifest.kind === "Job") return undefined;
      return `a ${object.manifest.kind} is not a Job: only a Job runs to completion, once more for each version`;
    },
    // The objects whose Files count for "one path, one owner": the application's in the agent, the whole repository's in `ferry validate`.
    withObjects: (objects) => validator(objects),
  });
  return validator([]);
}

/**
 * Puts host objects into their namespace: their own, else the application's
 * (`spec.namespace`), else the default one, which keys carry as no namespace
 * (so inventories and records from before namespaces keep matching). Pure.
 */
export function withHostNamespace(objects: readonly RenderedObject[], applicationNamespace: string | undefined): RenderedObject[] {
  return objects.map((object) => {
    const { apiVersion, kind, metadata } = object.manifest;
    if (apiVersion !== HOST_API_VERSION || typeof metadata.name !== "string") return object;
    const namespace = normalizeHostNamespace(metadata.namespace ?? applicationNamespace);
    const key = resourceKey(apiVersion, kind, metadata.name, namespace);
    if (namespace === metadata.namespace && key === object.key) return object;
    const { namespace: _old, ...rest } = metadata;
    const manifest = { ...object.manifest, metadata: namespace === undefined ? rest : { ...rest, namespace } };
    return { ...object, manifest, key };
  });
}

/**
 * Creates the host target. Records of an earlier agent over the same state
 * directory are loaded at once and services still running are adopted.
 */
export function createHostTarget(options: HostTargetOptions): HostTarget {
  const root = path.resolve(options.root);
  const validator = hostValidator(root, options.name);
  const stateDir = path.resolve(options.stateDir);
  // The directory fsyncs of an apply's writes (files and their records) are done once per directory, at flush.
  const durability = new DirectorySync();
  const store = createStateStore(stateDir, durability);
  const listeners = new Set<(change: LiveChange) => void>();
  const artifacts = createArtifactCache(stateDir);
  // The key is read (or made) with the other start-up work; nothing seals before `ready`.
  let loadedSealer: RecordSealer | undefined;
  const sealer: RecordSealer = {
    seal(value) {
      if (!loadedSealer) throw new Error("the host target's record key is not loaded yet");
      return loadedSealer.seal(value);
    },
  };
  const collectArtifacts = async (): Promise<void> => {
    try {
      await artifacts.collect(await artifactsInUse(store));
    } catch {
      // Cleaning up old versions is housekeeping: a failure here must not fail an apply; the next one tries again.
    }
  };
  // Not secret, and the same for every agent over this directory: it only tells this directory's processes from others'.
  const stateId = createHash("sha256").update(stateDir).digest("hex").slice(0, 16);
  const environment = (kind: HostKind): HostEnvironment => ({
    root,
    store,
    stateId,
    sealer,
    artifacts,
    collectArtifacts,
    notify(id, owner, message) {
      const { namespace, name } = splitHostId(id);
      const change: LiveChange = { key: resourceKey(HOST_API_VERSION, kind, name, namespace), message, ...(owner === undefined ? {} : { owner }) };
      for (const listener of [...listeners]) {
        try {
          listener(change);
        } catch {
          // One failing listener must not keep the others from hearing about the change.
        }
      }
    },
  });
  const files = createFileHandler(environment("File"), options.filePollIntervalMs ?? 1000, durability);
  const handlers: Readonly<Record<HostKind, KindHandler>> = {
    Service: createServiceHandler(environment("Service"), {
      livenessPollMs: options.livenessPollMs ?? 500,
      backoffResetMs: options.backoffResetMs ?? 10_000,
    }),
    File: files,
    Job: createJobHandler(environment("Job")),
  };
  const jobRuns = new JobRuns(stateDir);
  // Started by the first call that needs it, not at construction: an agent takes the state directory's lock before its target adopts or stops anything.
  let started: Promise<void> | undefined;
  const ready = (): Promise<void> =>
    (started ??= (async () => {
      await mkdir(stateDir, { recursive: true, mode: 0o700 });
      loadedSealer = await loadRecordSealer(stateDir);
      await mkdir(root, { recursive: true });
      await store.removeLeftovers();
      for (const handler of Object.values(handlers)) await handler.start();
    })());

  // One operation at a time per object: a replace and a delete of the same service must not interleave.
  const queues = new Map<string, Promise<unknown>>();
  function serialize<T>(key: string, run: () => Promise<T>): Promise<T> {
    const previous = queues.get(key) ?? Promise.resolve();
    const next = previous.then(run, run);
    const settled = next.catch(() => undefined);
    queues.set(key, settled);
    void settled.then(() => queues.get(key) === settled && queues.delete(key));
    return next;
  }

  /** The handler of a key's kind and the object's id (keys of the default namespace carry none). */
  function handlerOf(key: ResourceKey): { handler: KindHandler; name: string } | undefined {
    const ref = parseResourceKey(key);
    if (ref.group !== HOST_GROUP || !isHostKind(ref.kind)) return undefined;
    return { handler: handlers[ref.kind], name: hostId(ref.namespace, ref.name) };
  }

  function handlerFor(object: RenderedObject): KindHandler {
    const kind = object.manifest.kind;
    if (object.manifest.apiVersion !== HOST_API_VERSION || !isHostKind(kind)) {
      throw stalled("UnsupportedKind", `${object.origin.file}: the host target does not manage ${object.manifest.apiVersion} ${kind}`);
    }
    return handlers[kind];
  }

  return {
    name: options.name ?? "host",
    root,
    stateDir,

    supports: validator.supports,
    validate: validator.validate,
    ...(validator.prepare ? { prepare: validator.prepare } : {}),
    ...(validator.withObjects ? { withObjects: validator.withObjects } : {}),
    ...(validator.runnable ? { runnable: validator.runnable } : {}),

    async describe(object, context) {
      await ready();
      return handlerFor(object).describe(object, context);
    },

    secretFields: hostSecretFields,

    readsFrom: contentFromOf,
    async contentDiff(key, pointer, desired) {
      const found = handlerOf(key);
      return found?.handler === files && pointer === "/sha256" && typeof desired === "string" ? files.contentDiff(found.name, desired) : undefined;
    },

    async read(keys) {
      await ready();
      const live = new Map<ResourceKey, LiveObject>();
      for (const key of keys) {
        const found = handlerOf(key);
        const state = found && (await found.handler.read(found.name));
        if (state) live.set(key, { key, state: state.state, owner: state.owner, ...(state.correcting ? { correcting: state.correcting } : {}) });
      }
      return live;
    },

    async owned(application) {
      await ready();
      const keys: ResourceKey[] = [];
      for (const [kind, handler] of Object.entries(handlers) as [HostKind, KindHandler][]) {
        for (const id of await handler.owned(application)) {
          const { namespace, name } = splitHostId(id);
          keys.push(resourceKey(HOST_API_VERSION, kind, name, namespace));
        }
      }
      return keys;
    },

    async apply(object, context) {
      await ready();
      const handler = handlerFor(object);
      return serialize(object.key, () => handler.apply(object, context));
    },

    async delete(key, context) {
      await ready();
      const found = handlerOf(key);
      if (!found) return;
      await serialize(key, () => found.handler.delete(found.name, context.application));
      if (found.handler === handlers.Job && !(await store.read("Job", found.name))) await jobRuns.remove(found.name);
    },

    async runJob(object, context, request) {
      await ready();
      const refused = validator.runnable?.(object);
      if (refused !== undefined) throw stalled("NotRunnable", `${object.origin.file}: ${refused}`);
      const name = nameOf(object);
      assertOwner("Job", name, (await store.read<JobRecord>("Job", name))?.owner, context.application);
      const desired = jobDesiredOf(environment("Job"), object);
      await prepareToRun(environment("Job"), object, desired, processEnv(desired.env));
      return jobRuns.start(name, desired, request);
    },

    async jobRun(key, id) {
      await ready();
      const found = handlerOf(key);
      return found?.handler === handlers.Job ? jobRuns.get(found.name, id) : undefined;
    },

    async health(keys) {
      await ready();
      const result = new Map<ResourceKey, Health>();
      for (const key of keys) {
        const found = handlerOf(key);
        result.set(key, found ? await found.handler.health(found.name) : { status: "Missing", message: "not an object of the host target" });
      }
      return result;
    },

    watch(listener) {
      listeners.add(listener);
      files.setWatching(true);
      return () => {
        listeners.delete(listener);
        files.setWatching(listeners.size > 0);
      };
    },

    flush() {
      return durability.flush();
    },

    async close() {
      await durability.flush();
      listeners.clear();
      await started?.catch(() => undefined);
      for (const handler of Object.values(handlers)) handler.close();
    },

    async stopAll() {
      await ready();
      for (const handler of Object.values(handlers)) await handler.stopAll();
      jobRuns.stopAll();
    },
  };
}
