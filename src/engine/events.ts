import type { Problem } from "../core/errors.js";
import type { Digest, ResourceKey, Revision } from "../core/ids.js";
import type { CommitInfo } from "../source/artifact.js";
import type { ApplicationStatus, ChangeSet, DriftedObject, Trigger } from "./status.js";

/** The stages of one reconcile run, as progress events name them (metrics time them). */
export type ReconcileStage = "source" | "render" | "validate" | "read_live" | "apply" | "prune" | "health";

/** Everything the engine tells observers (logs, history, dashboard, alerts). */
export type EngineEvent =
  | { readonly type: "Progress"; readonly application: string; readonly message: string; readonly stage?: ReconcileStage }
  | { readonly type: "SyncStarted"; readonly application: string; readonly revision: Revision; readonly trigger: Trigger }
  | {
      readonly type: "SyncFinished";
      readonly application: string;
      readonly target: string;
      readonly revision: Revision;
      readonly digest?: Digest;
      readonly commit?: CommitInfo;
      /** Artifact versions the rendered objects run (labels, annotations, image tags). */
      readonly versions: readonly string[];
      readonly trigger: Trigger;
      readonly outcome: "Succeeded" | "Failed";
      readonly reason: string;
      readonly message: string;
      readonly changeSet: ChangeSet;
      readonly durationMs: number;
    }
  | { readonly type: "DriftDetected"; readonly application: string; readonly revision: Revision; readonly objects: readonly DriftedObject[]; readonly selfHeal: boolean }
  | { readonly type: "DriftCorrected"; readonly application: string; readonly revision: Revision; readonly objects: readonly ResourceKey[] }
  | { readonly type: "StatusChanged"; readonly application: string; readonly status: ApplicationStatus }
  | { readonly type: "ConfigRejected"; readonly revision: Revision; readonly problems: readonly Problem[] }
  /** A revision an application will not apply until it changes (broken YAML, schema error, policy violation); once per revision. */
  | { readonly type: "RevisionRefused"; readonly application: string; readonly revision: Revision; readonly reason: string; readonly message: string; readonly problems: readonly Problem[] }
  | { readonly type: "ConfigLoaded"; readonly revision: Revision; readonly applications: readonly string[] }
  | { readonly type: "ApplicationRemoved"; readonly application: string; readonly pruned: readonly ResourceKey[] };

/**
 * A listener of engine events. One that keeps events (the history) returns a
 * promise that resolves once the event is durable; the engine waits on it
 * before its status reports what the event is about.
 */
export type EngineListener = (event: EngineEvent) => unknown;

/** Fans events out to listeners; a throwing listener never breaks the engine or the others. */
export class EventBus {
  readonly #listeners = new Set<EngineListener>();

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: EngineListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Delivers an event to every listener. The promise resolves once every
   * listener that keeps the event has it durable; it never rejects.
   */
  emit(event: EngineEvent): Promise<void> {
    const kept: Promise<unknown>[] = [];
    for (const listener of this.#listeners) {
      try {
        const result = listener(event);
        if (result instanceof Promise) kept.push(result.catch((error: unknown) => console.error(`event listener failed on ${event.type}:`, error)));
      } catch (error) {
        console.error(`event listener failed on ${event.type}:`, error);
      }
    }
    return kept.length === 0 ? Promise.resolve() : Promise.all(kept).then(() => undefined);
  }
}
