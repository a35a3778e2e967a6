import type { Problem } from "../core/errors.js";
import type { Health } from "../core/health.js";
import type { ResourceKey } from "../core/ids.js";
import type { JsonObject, JsonValue } from "../core/json.js";
import type { RenderedObject } from "../core/objects.js";

/**
 * The state of an object in a form both sides can be compared in: the target
 * turns a desired object into one (`describe`) and reads live objects as one
 * (`read`). The diff stage compares them field by field.
 */
export type Comparable = JsonObject;

/** Says whether the value at a JSON pointer of an object's comparable state is secret. */
export type SecretFields = (pointer: string) => boolean;

/** What the target needs to know about the application an object belongs to. */
export interface ObjectContext {
  /** Application name: targets label what they own with it. */
  readonly application: string;
  /** Absolute path of the read-only checkout the object was rendered from. */
  readonly artifactDirectory: string;
  /** The application's settings for targets that have any (Kubernetes: ignore rules, conflict policy). */
  readonly settings?: TargetSettings;
}

/** A rule that keeps fields of selected objects out of comparisons (fields another controller owns). */
export interface IgnoreRule {
  /** API group (`apps`; empty for the core group); absent: any. */
  readonly group?: string;
  /** Kind; absent: any. */
  readonly kind?: string;
  readonly name?: string;
  readonly namespace?: string;
  /** JSON pointers of the ignored fields (`/spec/replicas`). */
  readonly jsonPointers: readonly string[];
  /** Where the rule is declared, for people (`spec.kubernetes.ignoreDifferences[0]`). */
  readonly source?: string;
}

/** A field of one object that an ignore rule keeps out of its comparison, with the value Git declares. */
export interface IgnoredField {
  /** JSON pointer inside the object's comparable state (`/spec/replicas`). */
  readonly pointer: string;
  /** The rule, for people: `spec.kubernetes.ignoreDifferences[0] (kind Deployment, /spec/replicas)`. */
  readonly rule: string;
  /** The value in Git; absent when Git does not declare the field. */
  readonly desired?: JsonValue;
}

/** Per-application settings a target may use. Targets ignore what they have no use for. */
export interface TargetSettings {
  /** Namespace of namespaced objects that name none. */
  readonly namespace?: string;
  /** Take fields another applier owns instead of reporting a conflict. */
  readonly forceConflicts?: boolean;
  /** Take over objects that exist already but were not created by Ferry (otherwise they are refused). */
  readonly adopt?: boolean;
  /** Delete adopted objects too when they leave Git (otherwise they are released and left in place). */
  readonly pruneAdopted?: boolean;
  /** Fields left out of comparisons and out of updates. */
  readonly ignoreDifferences?: readonly IgnoreRule[];
}

/** A live object as the target reads it. */
export interface LiveObject {
  readonly key: ResourceKey;
  readonly state: Comparable;
  /** The application that owns it, as the target recorded it; undefined when nobody does. */
  readonly owner?: string;
  /**
   * Live values of the fields ignore rules leave out of `state`, by JSON
   * pointer (a field the object lacks is absent): shown, never compared.
   */
  readonly ignored?: Readonly<Record<string, JsonValue>>;
  /**
   * Set when the target is already putting the object back on its own (a
   * service waiting out its restart backoff), with what it is doing. The
   * engine reports the difference as drift and leaves the correction to the
   * target instead of applying over it.
   */
  readonly correcting?: string;
}

/** What starts a run of a Job for a verification: its id (unique per promotion step) and variables that tie it to the version. */
export interface JobRunRequest {
  /** Lowercase letters, digits and "-"; at most 20 characters. The same id names the same run. */
  readonly id: string;
  /** Added to the run's environment (`FERRY_VERSION`, `FERRY_RUN_ID`, ...). */
  readonly env: Readonly<Record<string, string>>;
}

/** One run of a Job started by `runJob`, as the target knows it now. */
export interface JobRun {
  readonly id: string;
  /** Where to look at it: the Job's name on Kubernetes, the log file on the host. */
  readonly name: string;
  /** `lost`: the run ended without a result being kept (the agent stopped while it ran). */
  readonly status: "running" | "succeeded" | "failed" | "lost";
  /** ISO times. */
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly message: string;
  /** The last lines of its output, when the target keeps them. */
  readonly output?: string;
}

/** What applying one object did. */
export type ApplyOutcome = "created" | "configured" | "unchanged" | "adopted";

/** What deleting one object did: deleted, or left in place because Ferry did not create it (`kept`). */
export type DeleteOutcome = "deleted" | "kept";

/** A change of a live object noticed by the target (a process exited, a file was edited). */
export interface LiveChange {
  readonly key: ResourceKey;
  /** Owning application, when known. */
  readonly owner?: string;
  readonly message: string;
}

/**
 * The pure side of a target: which kinds it manages and their schemas. Enough
 * to check a repository before any agent runs it (`ferry validate`).
 */
export interface TargetValidator {
  /** The name Applications use to select it (`host`). */
  readonly name: string;
  /** True when this target manages objects of that apiVersion and kind. */
  supports(apiVersion: string, kind: string): boolean;
  /** Checks one object against the schema of its kind. Pure: no I/O. */
  validate(object: RenderedObject): readonly Problem[];
  /**
   * Fills in what the target defaults before objects are keyed, validated and
   * compared (Kubernetes: the application's namespace on namespaced objects
   * that name none). Pure. Absent: objects stay as rendered.
   */
  prepare?(objects: readonly RenderedObject[], settings: TargetSettings): readonly RenderedObject[];
  /**
   * A validator that also knows these objects: the kinds defined among them
   * (the CustomResourceDefinitions of a Kubernetes repository), or what two
   * objects may not share (host Files: one path, one owner). Absent: each
   * object is judged alone.
   */
  withObjects?(objects: readonly RenderedObject[]): TargetValidator;
  /**
   * Says why the object cannot be run again on its own for a verification
   * (`runJob`), or undefined when it can. Pure. Absent: nothing can.
   */
  runnable?(object: RenderedObject): string | undefined;
}

/**
 * Where objects are applied. One interface, several implementations (host,
 * kubernetes, an in-memory fake), all passing one conformance suite.
 */
export interface Target extends TargetValidator {
  /**
   * The desired state of an object in comparable form. May read files of the
   * artifact (content taken from the repository); throws a stalled FerryError
   * naming the file and field when it cannot.
   */
  describe(object: RenderedObject, context: ObjectContext): Promise<Comparable>;
  /**
   * The repository files `describe` reads for the object beyond its manifest
   * (a host File's `contentFrom`), relative to the repository root, so a
   * commit that changes one of them runs the application again. Pure.
   * Absent: none.
   */
  readsFrom?(object: RenderedObject): readonly string[];
  /**
   * Which fields of the object's comparable state hold secrets (for either
   * side of a diff), so they are never reported. Pure. Absent: none beyond
   * the `ferry.dev/secret` annotation.
   */
  secretFields?(object: RenderedObject): SecretFields | undefined;
  /**
   * The fields of the object that the application's ignore rules leave out of
   * `describe` and `read` (and out of updates), with the rule and Git's value,
   * so a diff can show them without counting them. Pure. Absent: none.
   */
  ignoredFields?(object: RenderedObject, settings: TargetSettings | undefined): readonly IgnoredField[];
  /**
   * Says, per differing field (JSON pointer), who or what explains that the
   * live object differs (the field manager that last set it). Absent: nothing.
   */
  explain?(key: ResourceKey, pointers: readonly string[]): Promise<ReadonlyMap<string, string>>;
  /**
   * A unified diff, live to Git, of the content a differing field stands for
   * (a host File's `sha256`: the file's content), after `describe` and `read`
   * of the object, given Git's value of the field; undefined when the field
   * stands for no content. Never asked for a secret field.
   */
  contentDiff?(key: ResourceKey, pointer: string, desired: JsonValue | undefined): Promise<string | undefined>;
  /** Reads the live state of the given objects; absent objects are missing from the map. */
  read(keys: readonly ResourceKey[]): Promise<ReadonlyMap<ResourceKey, LiveObject>>;
  /**
   * Keys of every live object the target has marked as the application's
   * (its records or labels), whether or not an inventory lists them: what a
   * killed agent created before it saved its inventory. Absent: the
   * inventory alone is trusted.
   */
  owned?(application: string): Promise<readonly ResourceKey[]>;
  /** Creates or updates one object so its live state matches `describe`; `adopted` when it existed before and is managed from now on. */
  apply(object: RenderedObject, context: ObjectContext): Promise<ApplyOutcome>;
  /**
   * Deletes one object it owns; deleting an absent object succeeds. An object
   * the application adopted rather than created is released instead (left in
   * place, no longer marked), unless `settings.pruneAdopted`: that is `kept`.
   */
  delete(key: ResourceKey, context: { readonly application: string; readonly settings?: TargetSettings }): Promise<DeleteOutcome | void>;
  /** Health of live objects; a missing object is `Missing`. */
  health(keys: readonly ResourceKey[]): Promise<ReadonlyMap<ResourceKey, Health>>;
  /**
   * Starts one more run of a Job as declared, apart from the Job itself (its
   * record or live object stays), identified by `request.id`; asking again
   * with the same id returns that run and starts nothing. Old runs of the
   * same Job are removed beyond a few. Absent: the target runs nothing on demand.
   */
  runJob?(object: RenderedObject, context: ObjectContext, request: JobRunRequest): Promise<JobRun>;
  /** The run of the Job `key` with that id, as it is now; undefined when there is none. */
  jobRun?(key: ResourceKey, id: string): Promise<JobRun | undefined>;
  /** Calls `listener` when a live object changes outside Ferry's own writes. Returns the unsubscribe function. */
  watch(listener: (change: LiveChange) => void): () => void;
  /** Stops watching and background work. Running services are left running. */
  close(): Promise<void>;
  /**
   * Makes what the applies and deletes so far wrote durable (a host target
   * fsyncs each directory it wrote into once); the engine calls it at the end
   * of a sync's applies. Absent: every write is durable when it returns.
   */
  flush?(): Promise<void>;
}
