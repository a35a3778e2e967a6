/**
 * The state of promotions: plain data, persisted by the controller and shown
 * by `ferry pipeline status`. No I/O.
 */

/** Where one environment stands in the promotion of one version. */
export type StepPhase =
  /** Not reached: an earlier environment has not passed yet (or failed). */
  | "Waiting"
  /** Ready to be promoted into, waiting for `ferry approve`. */
  | "AwaitingApproval"
  /** Ready to be promoted into, waiting for `ferry promote --to`. */
  | "AwaitingPromotion"
  /** The application is on hold (a rollback): nothing is promoted into it until `ferry release`. */
  | "Held"
  /** The bump is being committed. */
  | "Writing"
  /** The bump is on a pull-request branch, waiting to be merged. */
  | "AwaitingMerge"
  /** Committed: waiting for the environment to sync it and become healthy. */
  | "Syncing"
  /** Synced and healthy: the smoke-test job and HTTP checks run. */
  | "Verifying"
  /** Verified: must stay healthy until the soak time is over. */
  | "Soaking"
  | "Passed"
  | "Failed";

/** One environment of one promotion. */
export interface StepRecord {
  readonly environment: string;
  readonly application: string;
  readonly phase: StepPhase;
  /** When the step entered its phase (ISO). */
  readonly since: string;
  /** When the bump was committed (ISO): timeouts and durations count from here. */
  readonly writtenAt?: string;
  readonly commit?: string;
  /** The pull-request branch, in pull-request mode. */
  readonly branch?: string;
  /** Why it waits or failed: a PascalCase reason and a message for people. */
  readonly reason?: string;
  readonly message?: string;
  readonly approvedBy?: string;
  readonly approvedAt?: string;
  readonly verifiedAt?: string;
  /** Set when the environment was rolled back after a failure. */
  readonly rolledBack?: string;
  /** The run of the verification job for this version, once started. */
  readonly verification?: VerificationRecord;
}

/**
 * One run of a step's verification job, started by the gate after the
 * version synced and became healthy, and judged by that run alone.
 */
export interface VerificationRecord {
  readonly job: string;
  /** Unique per pipeline, environment, version and attempt (`2-0-0-3f9a1c`). */
  readonly runId: string;
  /** The Job's resource key in the target, to read the run by. */
  readonly key: string;
  /** Where the run is: the Job's name on Kubernetes, the log file on the host. */
  readonly name: string;
  readonly status: "running" | "succeeded" | "failed" | "lost";
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly message: string;
  /** The last lines of its output, where the target keeps them. */
  readonly output?: string;
  /** Runs started for this step so far (a run lost when the agent stopped is started again). */
  readonly attempt: number;
}

/** One version on its way through a pipeline's environments. */
export interface PromotionRecord {
  readonly pipeline: string;
  readonly version: string;
  /** The marked values that move together (version, digest, url, ...). */
  readonly values: Readonly<Record<string, string>>;
  readonly startedAt: string;
  /** How it entered: `watch` or the person who ran `ferry promote`. */
  readonly startedBy: string;
  readonly steps: readonly StepRecord[];
  readonly outcome?: "Succeeded" | "Failed";
  readonly finishedAt?: string;
}

/** Everything the controller persists, per pipeline: the promotion in flight or last finished. */
export interface PromotionStore {
  readonly version: 1;
  readonly pipelines: Readonly<Record<string, PromotionRecord>>;
  /** The newest version each pipeline's watcher reported: only a version not seen before opens a promotion. */
  readonly discovered?: Readonly<Record<string, string>>;
}

/** Phases in which the step is moving and gates are checked. */
export const ACTIVE_PHASES: readonly StepPhase[] = ["Writing", "AwaitingMerge", "Syncing", "Verifying", "Soaking"];
