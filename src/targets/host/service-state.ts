import type { Health } from "../../core/health.js";
import type { JsonObject } from "../../core/json.js";
import { canonicalJson } from "../../core/json.js";
import type { Comparable } from "../target.js";
import type { ArtifactSpec, HealthCheckSpec, RestartSpec, ServiceSpec, StopSpec } from "./host-schemas.js";

/** What a Service and a Job run: command, arguments, env and working directory, and the artifact. */
export interface ProcessDesired {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Absolute: inside the root, or the artifact's directory. */
  readonly workingDir: string;
  /** The artifact it runs, unpacked in the host state directory. */
  readonly artifact?: ArtifactSpec;
}

/** A Service as it is applied: the normalized spec with the working directory resolved. */
export interface ServiceDesired extends ProcessDesired {
  readonly healthCheck?: HealthCheckSpec;
  readonly restart: RestartSpec;
  readonly stop: StopSpec;
}

/**
 * What the state directory holds for one Service. Secret env values are not
 * kept: `desired.env` holds their sealed digests (see record-seal.ts), enough
 * to know the spec is unchanged but not to start the process again.
 */
export interface ServiceRecord {
  readonly name: string;
  readonly owner: string;
  /** What runs, with the values of the variables `sealedEnv` names sealed. */
  readonly desired: ServiceDesired;
  /** Sorted names of the env variables whose values `desired.env` holds sealed. */
  readonly sealedEnv: readonly string[];
  readonly pid: number;
  readonly startTime: string;
  /** Epoch milliseconds of the start of the recorded process. */
  readonly startedAt: number;
  /** Set by stopAll: the process was stopped on purpose and is not restarted on adoption. */
  readonly stopped?: boolean;
}

/** The variable that tells a process where its artifact is unpacked. */
export const ARTIFACT_DIR_ENV = "FERRY_ARTIFACT_DIR";

/**
 * Builds the desired state of a Service from its spec. With an artifact
 * (unpacked in `artifactDir`), `$FERRY_ARTIFACT_DIR` names that directory.
 */
export function describeService(spec: ServiceSpec, workingDir: string, artifactDir?: string): ServiceDesired {
  return {
    ...describeProcess(spec, workingDir, artifactDir),
    ...(spec.healthCheck ? { healthCheck: spec.healthCheck } : {}),
    restart: spec.restart,
    stop: spec.stop,
  };
}

/** The process part of a Service's or Job's desired state; with an artifact (unpacked in `artifactDir`), `$FERRY_ARTIFACT_DIR` names it. */
export function describeProcess(spec: Pick<ServiceSpec, "command" | "args" | "env" | "artifact">, workingDir: string, artifactDir?: string): ProcessDesired {
  return {
    command: spec.command,
    args: spec.args,
    env: withArtifactDir(spec.env, artifactDir),
    workingDir,
    ...(spec.artifact ? { artifact: spec.artifact } : {}),
  };
}

/** `env` with FERRY_ARTIFACT_DIR set (over any value the spec gave it) when there is an artifact. */
export function withArtifactDir(env: Readonly<Record<string, string>>, artifactDir: string | undefined): Readonly<Record<string, string>> {
  return artifactDir === undefined ? env : { ...env, [ARTIFACT_DIR_ENV]: artifactDir };
}

/** The comparable form shared by describe (running: true) and read (running: alive). */
export function serviceComparable(desired: ServiceDesired, running: boolean): Comparable {
  return toComparable({ ...desired, running });
}

/** Plain JSON with sorted keys and no undefined fields. */
export function toComparable(value: object): Comparable {
  return JSON.parse(canonicalJson(value)) as JsonObject;
}

/** Seconds to wait before the next restart, doubling per consecutive restart up to the maximum. */
export function restartDelaySeconds(restart: RestartSpec, previousRestarts: number): number {
  return Math.min(restart.backoffSeconds * 2 ** previousRestarts, restart.maxBackoffSeconds);
}

/** Whether a process that ended this way is started again under the policy. An unknown exit counts as a failure. */
export function shouldRestart(restart: RestartSpec, exitCode: number | null): boolean {
  if (restart.policy === "always") return true;
  if (restart.policy === "never") return false;
  return exitCode !== 0;
}

/** `exited with code 1`, `was killed by signal SIGKILL`, or `exited` when nothing is known. */
export function describeExit(code: number | null, signal: string | null): string {
  if (code !== null) return `exited with code ${code}`;
  if (signal !== null) return `was killed by signal ${signal}`;
  return "exited";
}

/** Health-check progress of a running service. */
export interface CheckState {
  readonly passedOnce: boolean;
  readonly failures: number;
  readonly threshold: number;
  readonly lastFailure?: string;
}

/** What a supervisor knows about its service at one moment. */
export type ServiceSnapshot =
  | { readonly phase: "running"; readonly pid: number; readonly check?: CheckState }
  /** Waiting out its backoff: `restart` is the attempt due at `nextAt` (epoch milliseconds). */
  | { readonly phase: "backoff"; readonly lastExit: string; readonly delaySeconds: number; readonly restart: number; readonly nextAt: number }
  | { readonly phase: "exited"; readonly lastExit: string; readonly policy: RestartSpec["policy"] }
  /** Down and due for a restart, but its secret env values are not known since the agent restarted. */
  | { readonly phase: "waiting"; readonly lastExit: string; readonly sealedEnv: readonly string[] }
  | { readonly phase: "stopping" }
  | { readonly phase: "stopped" };

/** Health of a service from its supervisor's snapshot. */
export function serviceHealth(snapshot: ServiceSnapshot): Health {
  switch (snapshot.phase) {
    case "running": {
      const check = snapshot.check;
      if (!check) return { status: "Healthy", message: `running (pid ${snapshot.pid})` };
      if (check.failures >= check.threshold) {
        return { status: "Degraded", message: `health check failed ${check.failures} times in a row: ${check.lastFailure ?? "no reason given"}` };
      }
      if (check.passedOnce) return { status: "Healthy", message: `running (pid ${snapshot.pid}) and passing its health check` };
      return { status: "Progressing", message: `started (pid ${snapshot.pid}), waiting for the first passing health check` };
    }
    case "backoff":
      return {
        status: "Degraded",
        message: `${snapshot.lastExit}; restarting, attempt ${snapshot.restart}, next at ${new Date(snapshot.nextAt).toISOString()} (backoff ${formatSeconds(snapshot.delaySeconds)})`,
      };
    case "exited":
      return { status: "Degraded", message: `${snapshot.lastExit} and is not restarted (restart policy ${snapshot.policy})` };
    case "waiting":
      return {
        status: "Degraded",
        message:
          `${snapshot.lastExit}; it is started again at the next run of its application: the values of ${snapshot.sealedEnv.join(", ")} ` +
          "are not kept on disk and have not been read from Git since the agent started",
      };
    case "stopping":
      return { status: "Progressing", message: "stopping" };
    case "stopped":
      return { status: "Degraded", message: "stopped" };
  }
}

function formatSeconds(seconds: number): string {
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)}s`;
}
