import type { Condition } from "../core/conditions.js";
import { findCondition, removeCondition, setCondition } from "../core/conditions.js";
import type { FerryError, Problem } from "../core/errors.js";
import { stalled, toFerryError } from "../core/errors.js";
import type { Health } from "../core/health.js";
import { aggregateHealth } from "../core/health.js";
import type { Digest, ResourceKey, Revision } from "../core/ids.js";
import type { RenderedObject } from "../core/objects.js";
import type { SourceInputs } from "../render/render-source.js";
import { displayKey, shortRevision } from "../core/ids.js";
import { versionsOf } from "../core/versions.js";
import type { Application } from "../config/application.js";
import type { PolicyRule } from "../config/policy.js";
import type { DesiredState, ObjectDiff } from "../diff/diff-objects.js";
import { diffObjects } from "../diff/diff-objects.js";
import type { SyncPlan } from "../plan/plan-sync.js";
import { PLANNING_ORDER } from "../targets/registry.js";
import { planSync } from "../plan/plan-sync.js";
import { DEFAULT_MAX_DELETE_SHARE, findMassDelete, massDeleteMessage } from "../plan/mass-delete.js";
import type { Artifact } from "../source/artifact.js";
import type { AgeIdentity } from "../secrets/age.js";
import type { ObjectContext, Target } from "../targets/target.js";
import type { AppRecord } from "./app-record.js";
import type { EngineEvent, ReconcileStage } from "./events.js";
import { helmOptionsOf } from "../render/render-source.js";
import { describeStage, explainStage, prepareStage, renderStage, validateStage, waitForHealth } from "./stages.js";
import type { ApplicationStatus, ChangeSet, DriftedObject, InventoryEntry, Trigger } from "./status.js";
import { describeDrift, summarizeChangeSet } from "./status.js";
import { count } from "../core/text.js";
import { createHash } from "node:crypto";
import type { LiveObject } from "../targets/target.js";

/** Options of a sync asked for by a person (`ferry sync`). */
export interface SyncRequest {
  /** Prune even when the application's policy does not. */
  readonly prune?: boolean;
  /** Delete even when that removes more than the allowed share of the application's objects. */
  readonly allowMassDelete?: boolean;
}

/** Everything one run of one application needs; the engine gathers it. */
export interface ReconcileInput {
  readonly application: Application;
  readonly artifact: Artifact;
  readonly target: Target;
  readonly record: AppRecord;
  readonly trigger: Trigger;
  /** Present when a person asked for this sync: it applies even when the policy is manual or the input stalled. */
  readonly manual?: SyncRequest;
  readonly now: () => Date;
  readonly progress: (message: string, stage?: ReconcileStage) => void;
  readonly emit: (event: EngineEvent) => void;
  readonly healthTimeoutMs: number;
  /** Share of its objects one sync may delete without an override (default one half). */
  readonly maxDeleteShare?: number;
  /** Keys that decrypt encrypted content in Git (age, SOPS with age); none: encrypted content stalls the run. */
  readonly ageIdentities?: readonly AgeIdentity[];
  /** Suspended at runtime: nothing is applied or pruned; live state is still read and drift reported. */
  readonly suspended?: boolean;
  /** The repository's Policy rules: an object that breaks an error rule stalls the run before anything is applied. */
  readonly policies?: readonly PolicyRule[];
  /**
   * Makes a record durable before the run goes on (awaited): the inventory a
   * sync is about to apply is saved before the first object is, so an agent
   * killed during the apply still knows what it may have created.
   */
  readonly saveRecord?: (record: AppRecord) => Promise<void>;
}

/** What the run decided. */
export interface ReconcileResult {
  readonly record: AppRecord;
  /** Retry later: a transient failure (with backoff) or health still settling. */
  readonly retry?: "backoff" | "soon";
  /** What the run's render read, when it rendered and ran to the end. */
  readonly inputs?: RunInputs;
  /** The live state the run left in sync and healthy, sealed: while it reads the same and the inputs are unchanged, a run would change nothing. */
  readonly live?: LiveSeal;
}

/**
 * The objects a run found (or left) exactly as Git wants them, and one digest
 * of how the target reads them: an interval run with unchanged inputs reads
 * them again and compares this digest instead of rendering.
 */
export interface LiveSeal {
  readonly keys: readonly ResourceKey[];
  readonly digest: string;
}

/** One digest of live objects as the target reads them (state, owner, ignored fields, a correction under way). */
export function sealLive(keys: readonly ResourceKey[], live: ReadonlyMap<ResourceKey, LiveObject>): LiveSeal {
  const hash = createHash("sha256");
  for (const key of keys) {
    const object = live.get(key);
    hash.update(JSON.stringify([key, object ? [object.state, object.owner ?? null, object.ignored ?? null, object.correcting ?? null] : null]));
    hash.update("\n");
  }
  return { keys, digest: hash.digest("hex") };
}

/**
 * The repository paths one run read, at its revision: the render's
 * directories and files, and the files the target read for its objects
 * (`contentFrom`). A later revision that changes none of them renders and
 * applies the same, unless `untracked` says the render may read more.
 */
export interface RunInputs {
  readonly revision: Revision;
  readonly directories: readonly string[];
  readonly files: readonly string[];
  readonly untracked?: string;
}

/**
 * One run of one application, as a straight line of stages: render, validate,
 * describe and read live, diff, plan, apply (by wave), prune, health. Every
 * failure becomes a status with a reason; a failure before apply changes nothing.
 */
export async function reconcileApplication(given: ReconcileInput): Promise<ReconcileResult> {
  const { application: app, artifact } = given;
  const revision = artifact.revision;
  if (!given.manual && given.record.stalledOn?.revision === revision && given.record.stalledOn.digest === undefined) return { record: given.record };
  // Asking the target what it owns may fail like any read of live state: the failure is the run's, in its status.
  let input = given;
  try {
    input = await withOwnedObjects(given);
    const { record } = input;
    input.progress(`rendering ${app.spec.source.path} at ${shortRevision(revision)}`, "render");
    const rendered = prepareStage(await renderStage(artifact, app.spec.source.path, { helm: helmOptionsOf(app), ...(input.ageIdentities ? { identities: input.ageIdentities } : {}) }), input.target, app.spec.settings);
    if (!input.manual && record.stalledOn?.revision === revision && record.stalledOn.digest === rendered.digest) return { record };
    input.progress(`validating ${rendered.objects.length} objects`, "validate");
    const warnings = validateStage(rendered.objects, input.target, input.policies);
    input.progress("reading live state", "read_live");
    const context: ObjectContext = {
      application: app.name,
      artifactDirectory: artifact.directory,
      ...(app.spec.settings ? { settings: app.spec.settings } : {}),
    };
    const desired = await describeStage(rendered.objects, input.target, context);
    const inventory = record.status.inventory.map((e) => e.key);
    const live = await input.target.read(unique([...desired.map((d) => d.object.key), ...inventory]));
    const diffs = await explainStage(diffObjects(desired, live, inventory), input.target);
    const correcting = new Map([...live.values()].flatMap((l) => (l.correcting ? [[l.key, l.correcting] as const] : [])));
    const owned = new Set([...live.values()].filter((l) => l.owner === app.name).map((l) => l.key));
    const result = await syncStage(input, { desired, diffs, digest: rendered.digest, context, warnings, correcting, owned, live });
    return rendered.inputs ? { ...result, inputs: runInputs(revision, rendered.inputs, rendered.objects, input.target) } : result;
  } catch (error) {
    const e = toFerryError(error);
    const record = failedRecord(input, e);
    if (e.disposition === "stalled") return { record };
    return { record, retry: e.disposition === "waiting" ? "soon" : "backoff" };
  }
}

function runInputs(revision: Revision, read: SourceInputs, objects: readonly RenderedObject[], target: Target): RunInputs {
  const files = new Set(read.files);
  for (const object of objects) for (const file of target.readsFrom?.(object) ?? []) files.add(file);
  return { revision, directories: read.directories, files: [...files].sort(), ...(read.untracked ? { untracked: read.untracked } : {}) };
}

/**
 * The input with every object the target says the application owns in its
 * inventory: an agent killed before it saved a record does not forget what
 * it created, and what left Git since is pruned as usual.
 */
async function withOwnedObjects(input: ReconcileInput): Promise<ReconcileInput> {
  const owned = (await input.target.owned?.(input.application.name)) ?? [];
  const known = new Set(input.record.status.inventory.map((e) => e.key));
  const missing = owned.filter((key) => !known.has(key));
  if (missing.length === 0) return input;
  const inventory = [...input.record.status.inventory, ...missing.map((key) => ({ key, health: unknownHealth }))];
  return { ...input, record: { ...input.record, status: { ...input.record.status, inventory } } };
}

interface Compared {
  readonly desired: readonly DesiredState[];
  readonly diffs: readonly ObjectDiff[];
  readonly digest: Digest;
  readonly context: ObjectContext;
  /** What validation warned about (Policy rules of severity warning): shown in the status, applied anyway. */
  readonly warnings: readonly Problem[];
  /** Objects the target is putting back on its own, with what it does: drift to report, not to apply over. */
  readonly correcting: ReadonlyMap<ResourceKey, string>;
  /** Live objects the target says are the application's. */
  readonly owned: ReadonlySet<ResourceKey>;
  /** Every object read, desired or in the inventory, as the target read it before anything was applied. */
  readonly live: ReadonlyMap<ResourceKey, LiveObject>;
}

async function syncStage(input: ReconcileInput, compared: Compared): Promise<ReconcileResult> {
  const { application: app, artifact, record } = input;
  const policy = app.spec.syncPolicy;
  const desiredChanged = record.applied?.digest !== compared.digest;
  const outOfSync = compared.diffs.filter((d) => d.type === "missing" || d.type === "changed");
  const prune = policy.prune || input.manual?.prune === true;
  const plan = planSync(compared.diffs, { prune, orphanAnnotations: annotationsOf(record.status.inventory), kindOrder: PLANNING_ORDER });
  const drift: DriftedObject[] = desiredChanged ? [] : outOfSync.map(toDrift);
  if (drift.length > 0 && !sameDrift(drift, record.status.drift)) {
    input.emit({ type: "DriftDetected", application: app.name, revision: artifact.revision, objects: drift, selfHeal: policy.selfHeal });
  }
  // Drift the target corrects itself (a restart after a backoff) is not applied over: that would hurry it or start a second copy.
  const toHeal = drift.filter((d) => !compared.correcting.has(d.key));
  const pending = (desiredChanged ? outOfSync.length : toHeal.length) > 0 || plan.prune.length > 0;
  const apply =
    pending &&
    input.suspended !== true &&
    (input.manual !== undefined || (policy.automated && (desiredChanged || (toHeal.length > 0 ? policy.selfHeal : plan.prune.length > 0))));
  if (!apply) return reportOnly(input, compared, { pending, drift });
  guardMassDelete(input, plan);

  if (input.saveRecord) {
    // Write-ahead: what this sync may create is in the inventory on disk before the first object is applied.
    const known = new Set(record.status.inventory.map((e) => e.key));
    const intended = compared.desired.filter((d) => !known.has(d.object.key)).map((d) => entry(d.object.key, new Map(), d.object.manifest.metadata.annotations));
    if (intended.length > 0) await input.saveRecord({ ...record, status: { ...record.status, inventory: [...record.status.inventory, ...intended] } });
  }
  const startedAt = input.now();
  input.emit({ type: "SyncStarted", application: app.name, revision: artifact.revision, trigger: input.trigger });
  const { changeSet, errors } = await applyPlan(input, plan, compared.context);
  input.progress("checking health", "health");
  const health = await waitForHealth(input.target, compared.desired.map((d) => d.object.key), {
    timeoutMs: input.healthTimeoutMs,
    progress: input.progress,
  });
  const appHealth = aggregateHealth(compared.desired.map((d) => ({ name: displayKey(d.object.key), health: health.get(d.object.key) ?? unknownHealth })));
  const firstError = errors[0];
  const outcome = firstError ? "Failed" : appHealth.status === "Healthy" ? "Succeeded" : "Failed";
  const reason = firstError ? firstError.reason : healthReason(appHealth);
  const message = firstError
    ? firstError.message
    : `applied revision ${shortRevision(artifact.revision)}: ${summarizeChangeSet(changeSet)}${appHealth.status === "Healthy" ? "" : `; ${appHealth.message}`}`;
  const finishedAt = input.now();
  const lastSync = emitSyncFinished(input, compared, { startedAt, finishedAt, outcome, reason, message, changeSet });
  if (!firstError && drift.length > 0) {
    input.emit({ type: "DriftCorrected", application: app.name, revision: artifact.revision, objects: drift.map((d) => d.key) });
  }
  const deleted = new Set([...changeSet.deleted, ...(changeSet.released ?? [])]);
  const keptByAnnotation = new Set(plan.kept.filter((k) => k.reason === "PruneAnnotation").map((k) => k.key));
  const inventory: InventoryEntry[] = [
    ...compared.desired.map((d) => entry(d.object.key, health, d.object.manifest.metadata.annotations)),
    ...record.status.inventory.filter((e) => !compared.desired.some((d) => d.object.key === e.key) && !deleted.has(e.key) && !keptByAnnotation.has(e.key)),
  ];
  const status: ApplicationStatus = {
    ...record.status,
    target: input.target.name,
    conditions: finalConditions(record.status.conditions, outcome === "Succeeded", reason, message, firstError?.disposition === "stalled", input.now()),
    sync: firstError
      ? { ...record.status.sync, status: "OutOfSync" }
      : { status: "Synced", revision: artifact.revision, digest: compared.digest },
    lastAttemptedRevision: artifact.revision,
    health: appHealth,
    drift: firstError ? drift : [],
    inventory,
    problems: [...(firstError?.problems ?? []), ...compared.warnings],
    suspended: false,
    lastSync,
  };
  const next: AppRecord = {
    ...record,
    prune: app.spec.syncPolicy.prune,
    status,
    ...(firstError ? {} : { applied: { revision: artifact.revision, digest: compared.digest, at: finishedAt.toISOString() } }),
    stalledOn: firstError?.disposition === "stalled" ? { revision: artifact.revision, digest: compared.digest } : undefined,
  };
  const retry = firstError ? (firstError.disposition === "stalled" ? undefined : "backoff") : appHealth.status === "Healthy" ? undefined : "soon";
  if (retry) return { record: next, retry };
  if (outcome !== "Succeeded") return { record: next };
  // Read once more what this sync left, so the next interval run can tell it unchanged without rendering.
  const keys = unique([...compared.desired.map((d) => d.object.key), ...inventory.map((e) => e.key)]);
  return { record: next, live: sealLive(keys, await input.target.read(keys)) };
}

/**
 * Refuses, before anything is applied, a sync that would delete more than the
 * allowed share of the application's objects (or all of them): an emptied
 * directory or a bad merge must not wipe a running application.
 */
function guardMassDelete(input: ReconcileInput, plan: SyncPlan): void {
  const { application: app, record } = input;
  if (app.spec.allowMassDelete === true || input.manual?.allowMassDelete === true) return;
  const share = input.maxDeleteShare ?? DEFAULT_MAX_DELETE_SHARE;
  const found = findMassDelete(plan.prune.length, record.status.inventory.length, share);
  if (found) throw stalled("MassDeleteRefused", massDeleteMessage(app.name, found, share));
}

/** Applies wave by wave; a wave must be healthy before the next. Prunes only after every apply succeeded. */
async function applyPlan(input: ReconcileInput, plan: SyncPlan, context: ObjectContext): Promise<{ changeSet: ChangeSet; errors: FerryError[] }> {
  const created: ResourceKey[] = [];
  const configured: ResourceKey[] = [];
  const unchanged: ResourceKey[] = [...plan.unchanged];
  const deleted: ResourceKey[] = [];
  const adopted: ResourceKey[] = [];
  const released: ResourceKey[] = [];
  const failed: { key: ResourceKey; message: string }[] = [];
  const errors: FerryError[] = [];
  for (const [index, wave] of plan.waves.entries()) {
    const which = wave.definitions ? ` (wave ${wave.wave}: namespaces and definitions first)` : plan.waves.length > 1 ? ` (wave ${wave.wave})` : "";
    input.progress(`applying ${count(wave.actions.length, "object")}${which}`, "apply");
    for (const action of wave.actions) {
      try {
        const outcome = await input.target.apply(action.object, context);
        if (outcome === "adopted") adopted.push(action.key);
        (outcome === "created" ? created : outcome === "configured" || outcome === "adopted" ? configured : unchanged).push(action.key);
      } catch (error) {
        const e = toFerryError(error, "ApplyFailed");
        errors.push(e);
        failed.push({ key: action.key, message: e.message });
      }
    }
    if (errors.length > 0) break;
    if (index < plan.waves.length - 1) {
      const keys = wave.actions.map((a) => a.key);
      const health = await waitForHealth(input.target, keys, { timeoutMs: input.healthTimeoutMs, progress: input.progress });
      const bad = keys.find((k) => health.get(k)?.status !== "Healthy");
      if (bad) {
        errors.push(toFerryError(new Error(`wave ${wave.wave} did not become healthy: ${displayKey(bad)}: ${health.get(bad)?.message ?? "unknown"}`), "WaveNotHealthy"));
        break;
      }
    }
  }
  if (errors.length === 0 && plan.prune.length > 0) {
    input.progress(`pruning ${count(plan.prune.length, "object")}`, "prune");
    for (const { key } of plan.prune) {
      try {
        const outcome = await input.target.delete(key, { application: context.application, ...(context.settings ? { settings: context.settings } : {}) });
        (outcome === "kept" ? released : deleted).push(key);
      } catch (error) {
        const e = toFerryError(error, "PruneFailed");
        errors.push(e);
        failed.push({ key, message: e.message });
      }
    }
  }
  // Durable before the run reports it applied: one flush for the whole sync, not one per object.
  await input.target.flush?.();
  return { changeSet: { created, configured, unchanged, deleted, ...(adopted.length > 0 ? { adopted } : {}), ...(released.length > 0 ? { released } : {}), failed }, errors };
}

/** No apply: report drift or pending changes, refresh health, and advance the synced revision when Git's desired state is unchanged. */
async function reportOnly(input: ReconcileInput, compared: Compared, found: { pending: boolean; drift: readonly DriftedObject[] }): Promise<ReconcileResult> {
  const { application: app, artifact, record } = input;
  const keys = compared.desired.map((d) => d.object.key);
  const health = await input.target.health(keys);
  const appHealth = aggregateHealth(keys.map((k) => ({ name: displayKey(k), health: health.get(k) ?? unknownHealth })));
  const inSync = !found.pending;
  let reason: string;
  let message: string;
  if (found.drift.length > 0) {
    reason = "DriftDetected";
    const objects = found.drift.map((d) => {
      const note = compared.correcting.get(d.key);
      return note ? `${displayKey(d.key)}: ${note}` : displayKey(d.key);
    });
    const corrected = found.drift.every((d) => compared.correcting.has(d.key));
    const advice = corrected ? "" : app.spec.syncPolicy.selfHeal ? "" : "; self-heal is off, run ferry sync to correct";
    message = `${describeDrift(found.drift.length)} (${objects.join(", ")})${advice}`;
  } else if (!inSync) {
    reason = "OutOfSync";
    message = `revision ${shortRevision(artifact.revision)} is not applied${app.spec.syncPolicy.automated ? "" : " (manual sync policy: run ferry sync)"}`;
  } else {
    reason = healthReason(appHealth);
    message = appHealth.status === "Healthy" ? `revision ${shortRevision(artifact.revision)} is applied and healthy` : appHealth.message;
  }
  if (found.drift.length === 0 && inSync && record.status.drift.length > 0 && record.applied?.digest === compared.digest) {
    // Put back without an apply of this run: by the target itself (a service restarted after its backoff) or by hand.
    input.emit({ type: "DriftCorrected", application: app.name, revision: artifact.revision, objects: record.status.drift.map((d) => d.key) });
  }
  const ready = inSync && found.drift.length === 0 && appHealth.status === "Healthy";
  // A run that finds everything as the last sync left it keeps that sync's message, so it writes nothing.
  const previousReady = findCondition(record.status.conditions, "Ready");
  if (ready && previousReady?.status === "True") message = previousReady.message;
  const status: ApplicationStatus = {
    ...record.status,
    target: input.target.name,
    conditions: finalConditions(record.status.conditions, ready, ready ? "Succeeded" : reason, message, false, input.now()),
    sync: inSync ? { status: "Synced", revision: artifact.revision, digest: compared.digest } : { ...record.status.sync, status: "OutOfSync" },
    lastAttemptedRevision: artifact.revision,
    health: appHealth,
    drift: found.drift,
    inventory: [
      ...record.status.inventory.map((e) => entry(e.key, health, e.annotations)),
      // Desired objects that run as the application's and that the inventory lost (a record saved short by a killed agent) are taken back.
      ...compared.desired
        .filter((d) => compared.owned.has(d.object.key) && !record.status.inventory.some((e) => e.key === d.object.key))
        .map((d) => entry(d.object.key, health, d.object.manifest.metadata.annotations)),
    ],
    problems: [...compared.warnings],
    suspended: false,
  };
  // Git's desired state is live but no sync of it was recorded (the agent was killed between the apply and the end of its
  // sync): it is recorded now, once its health settled, so the history and the status know the version that runs.
  const foundApplied = inSync && record.applied?.digest !== compared.digest && appHealth.status !== "Progressing";
  const lastSync = foundApplied ? recordFoundApplied(input, compared, appHealth) : undefined;
  const applied = lastSync
    ? { revision: artifact.revision, digest: compared.digest, at: lastSync.finishedAt }
    : inSync && record.applied?.digest === compared.digest
      ? { ...record.applied, revision: artifact.revision }
      : record.applied;
  const next: AppRecord = {
    ...record,
    prune: app.spec.syncPolicy.prune,
    status: lastSync ? { ...status, lastSync } : status,
    ...(applied ? { applied } : {}),
    stalledOn: undefined,
  };
  if (appHealth.status === "Progressing") return { record: next, retry: "soon" };
  // Found in sync, healthy and with nothing to correct: this live state is what the next interval run compares against.
  if (!ready || lastSync) return { record: next };
  return { record: next, live: sealLive(unique([...keys, ...record.status.inventory.map((e) => e.key), ...next.status.inventory.map((e) => e.key)]), compared.live) };
}

/** Emits the sync of a desired state found live without a recorded sync, and returns it as the status's last sync. */
function recordFoundApplied(input: ReconcileInput, compared: Compared, appHealth: Health): LastSync {
  const at = input.now();
  const outcome = appHealth.status === "Healthy" ? "Succeeded" : "Failed";
  const message = `revision ${shortRevision(input.artifact.revision)} was found applied and is recorded without a sync${appHealth.status === "Healthy" ? "" : `; ${appHealth.message}`}`;
  const changeSet: ChangeSet = { created: [], configured: [], unchanged: compared.desired.map((d) => d.object.key), deleted: [], failed: [] };
  return emitSyncFinished(input, compared, { startedAt: at, finishedAt: at, outcome, reason: healthReason(appHealth), message, changeSet });
}

type LastSync = NonNullable<ApplicationStatus["lastSync"]>;

/** Emits a run's SyncFinished event and returns the same sync as the status's last sync. */
function emitSyncFinished(
  input: ReconcileInput,
  compared: Compared,
  sync: { readonly startedAt: Date; readonly finishedAt: Date; readonly outcome: LastSync["outcome"]; readonly reason: string; readonly message: string; readonly changeSet: ChangeSet },
): LastSync {
  const { application: app, artifact } = input;
  const { startedAt, finishedAt, outcome, reason, message, changeSet } = sync;
  const versions = versionsOf(compared.desired.map((d) => d.object.manifest));
  input.emit({
    type: "SyncFinished",
    application: app.name,
    target: input.target.name,
    revision: artifact.revision,
    digest: compared.digest,
    commit: artifact.commit,
    versions,
    trigger: input.trigger,
    outcome,
    reason,
    message,
    changeSet,
    durationMs: finishedAt.getTime() - startedAt.getTime(),
  });
  return {
    revision: artifact.revision,
    digest: compared.digest,
    commit: artifact.commit,
    versions,
    trigger: input.trigger,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    outcome,
    reason,
    message,
    changeSet,
  };
}

/** The record after a run that failed before or during apply: the last good state stays as it was. */
function failedRecord(input: ReconcileInput, error: FerryError): AppRecord {
  const { record, artifact } = input;
  const isStalled = error.disposition === "stalled";
  input.progress(`failed: ${error.message}`);
  // A refusal is news once per revision: the retries of the same revision (manual ones aside) never get here.
  if (isStalled && (input.manual || record.stalledOn?.revision !== artifact.revision)) {
    input.emit({ type: "RevisionRefused", application: input.application.name, revision: artifact.revision, reason: error.reason, message: error.message, problems: error.problems });
  }
  const status: ApplicationStatus = {
    ...record.status,
    target: input.target.name,
    conditions: finalConditions(record.status.conditions, false, error.reason, error.message, isStalled, input.now()),
    sync: { ...record.status.sync, status: record.status.sync.revision === artifact.revision ? record.status.sync.status : "OutOfSync" },
    lastAttemptedRevision: artifact.revision,
    problems: error.problems,
  };
  return { ...record, status, stalledOn: isStalled ? { revision: artifact.revision } : undefined };
}

/** Ready always; Stalled only when true; Reconciling cleared (the run ended). */
function finalConditions(previous: readonly Condition[], ready: boolean, reason: string, message: string, isStalled: boolean, now: Date): Condition[] {
  let conditions = setCondition(previous, { type: "Ready", status: ready ? "True" : "False", reason: ready ? "Succeeded" : reason, message }, now);
  conditions = removeCondition(conditions, "Reconciling");
  conditions = isStalled ? setCondition(conditions, { type: "Stalled", status: "True", reason, message }, now) : removeCondition(conditions, "Stalled");
  return conditions;
}

const unknownHealth: Health = { status: "Unknown", message: "health not reported" };

function healthReason(health: Health): string {
  switch (health.status) {
    case "Healthy":
      return "Succeeded";
    case "Progressing":
      return "Progressing";
    case "Missing":
      return "ObjectsMissing";
    case "Degraded":
      return "HealthCheckFailed";
    case "Suspended":
      return "Suspended";
    case "Unknown":
      return "HealthUnknown";
  }
}

function entry(key: ResourceKey, health: ReadonlyMap<ResourceKey, Health>, annotations?: Readonly<Record<string, string>>): InventoryEntry {
  const own = ferryAnnotations(annotations);
  return { key, health: health.get(key) ?? unknownHealth, ...(own ? { annotations: own } : {}) };
}

/** Prefix of the annotations Ferry reads (ANNOTATIONS in core/objects.ts). */
const FERRY_ANNOTATION_PREFIX = "ferry.dev/";

/**
 * Only Ferry's own annotations go into the inventory: it needs no other, and
 * others may hold anything, such as kubectl's last-applied copy of a Secret
 * with its data, which must not reach status or the state files.
 */
function ferryAnnotations(annotations: Readonly<Record<string, string>> | undefined): Readonly<Record<string, string>> | undefined {
  const own = Object.entries(annotations ?? {}).filter(([k]) => k.startsWith(FERRY_ANNOTATION_PREFIX));
  return own.length > 0 ? Object.fromEntries(own) : undefined;
}

function toDrift(d: ObjectDiff): DriftedObject {
  if (d.type === "changed") return { key: d.key, differences: d.differences };
  return { key: d.key, differences: [{ path: "", live: null }] };
}

function sameDrift(a: readonly DriftedObject[], b: readonly DriftedObject[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function annotationsOf(inventory: readonly InventoryEntry[]): ReadonlyMap<ResourceKey, Readonly<Record<string, string>>> {
  return new Map(inventory.filter((e) => e.annotations).map((e) => [e.key, e.annotations ?? {}]));
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}
