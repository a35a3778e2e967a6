import type { HealthStatus } from "../../core/health.js";
import { runProbe } from "./health-probe.js";
import type { ProcessIdentity } from "./processes.js";
import { isAlive, OWNER_MARK_ENV, ownerMark, stopProcessGroup } from "./processes.js";
import type { CheckState, ServiceDesired, ServiceRecord, ServiceSnapshot } from "./service-state.js";
import { describeExit, restartDelaySeconds, serviceHealth, shouldRestart } from "./service-state.js";
import type { SpawnedProcess } from "./spawn-detached.js";
import { spawnDetached } from "./spawn-detached.js";
import type { StateStore } from "./state-store.js";

/** What a supervisor needs from its target. */
export interface SupervisorDeps {
  readonly store: StateStore;
  /** The state directory's id in the owner mark every service process carries. */
  readonly stateId: string;
  /** Tells watchers about an exit or a change of health. */
  readonly notify: (name: string, owner: string, message: string) => void;
  /** How often a process this agent did not start is checked for life. */
  readonly livenessPollMs: number;
  /** A process that stayed up this long starts its backoff from the beginning again. */
  readonly backoffResetMs: number;
}

/** Keeps one service running: restarts it per policy and probes its health. */
export interface ServiceSupervisor {
  readonly name: string;
  /** The current record (pid of the latest process). */
  record(): ServiceRecord;
  snapshot(): ServiceSnapshot;
  /**
   * Gives back the full desired state (secret env values included) of the
   * recorded spec, which the record does not keep; a service that went down
   * waiting for them is started again. The caller checked it matches the record.
   */
  remember(desired: ServiceDesired): void;
  /** Whether the secret env values are known (the service can be started again). */
  knowsEnv(): boolean;
  /** The recorded spec with its full env, or undefined while the secret values are not known. */
  plainDesired(): ServiceDesired | undefined;
  /**
   * Makes the supervisor the first to know of an exit: a process found dead
   * before its exit was handled is handled now (the exit code of a child this
   * agent started is awaited briefly). Readers call it before they look, so
   * nobody but the supervisor ever acts on a death it has not seen.
   */
  settle(): Promise<void>;
  /** Records the same spec sealed another way (which variables are secret changed; the values did not). */
  reseal(desired: ServiceDesired, sealedEnv: readonly string[]): Promise<void>;
  /** Stops the process gracefully; it is not restarted. */
  stop(): Promise<void>;
  /** Stops timers and probes but leaves the process running, for the next agent to adopt. */
  detach(): void;
}

/** The environment a service process gets: PATH and HOME of the agent, then its own variables. */
export function processEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  const base: Record<string, string> = {};
  if (process.env["PATH"] !== undefined) base["PATH"] = process.env["PATH"];
  if (process.env["HOME"] !== undefined) base["HOME"] = process.env["HOME"];
  return { ...base, ...env };
}

/**
 * Starts a new process for a service with its full desired state (`plain`),
 * records it (`base`, secret env values sealed), and supervises it.
 */
export async function launchService(
  base: Omit<ServiceRecord, "pid" | "startTime" | "startedAt">,
  plain: ServiceDesired,
  deps: SupervisorDeps,
): Promise<ServiceSupervisor> {
  // Write-ahead: the spec is on disk before its process exists, so an agent killed in between finds the marked process and adopts it as this record's.
  await deps.store.write("Service", base.name, { ...base, pid: 0, startTime: "", startedAt: Date.now() } satisfies ServiceRecord);
  const started = await spawnService(base, plain, deps);
  const record: ServiceRecord = { ...base, ...started.identity, startedAt: Date.now() };
  await deps.store.write("Service", base.name, record);
  const supervisor = new Supervisor(record, deps, plain.env);
  supervisor.watch(started.exit);
  return supervisor;
}

/**
 * Supervises a recorded process this agent did not start; a dead one is
 * handled as an exit. `plainEnv` is the full env when it is known (a record
 * just rewritten without its values); else only a record with no sealed
 * values can be started again before `remember`.
 */
export function adoptService(record: ServiceRecord, deps: SupervisorDeps, plainEnv?: Readonly<Record<string, string>>): ServiceSupervisor {
  const supervisor = new Supervisor(record, deps, plainEnv);
  if (isAlive(record)) supervisor.watch(undefined);
  else supervisor.handleLoss(`is not running (pid ${record.pid} is gone)`, null);
  return supervisor;
}

function spawnService(record: Pick<ServiceRecord, "name" | "owner">, desired: ServiceDesired, deps: SupervisorDeps): Promise<SpawnedProcess> {
  return spawnDetached({
    command: desired.command,
    args: desired.args,
    cwd: desired.workingDir,
    env: { ...processEnv(desired.env), [OWNER_MARK_ENV]: ownerMark(deps.stateId, record.owner, "Service", record.name) },
    logPath: deps.store.logPath("Service", record.name),
    logMode: "append",
  });
}

type Phase = "running" | "backoff" | "exited" | "waiting" | "stopping" | "stopped" | "detached";

class Supervisor implements ServiceSupervisor {
  readonly name: string;
  private current: ServiceRecord;
  private phase: Phase = "exited";
  private lastExit = "";
  private restarts = 0;
  private delaySeconds = 0;
  /** Epoch milliseconds of the pending restart. */
  private nextAt = 0;
  /** Resolves when the 'exit' of the child this agent started was handled. */
  private exited: Promise<void> | undefined;
  private check: CheckState | undefined;
  /** Bumped whenever the process is replaced or supervision ends, so late events of an old process are ignored. */
  private generation = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private launching: Promise<void> | undefined;
  private lastStatus: HealthStatus | undefined;
  /** The env with its secret values, when this agent knows them. */
  private plainEnv: Readonly<Record<string, string>> | undefined;

  constructor(
    record: ServiceRecord,
    private readonly deps: SupervisorDeps,
    plainEnv?: Readonly<Record<string, string>>,
  ) {
    this.name = record.name;
    this.current = record;
    this.plainEnv = plainEnv ?? (record.sealedEnv.length === 0 ? record.desired.env : undefined);
  }

  record(): ServiceRecord {
    return this.current;
  }

  knowsEnv(): boolean {
    return this.plainEnv !== undefined;
  }

  plainDesired(): ServiceDesired | undefined {
    return this.runnable();
  }

  remember(desired: ServiceDesired): void {
    this.plainEnv = desired.env;
    if (this.phase !== "waiting") return;
    this.phase = "backoff";
    this.launching = this.relaunch().finally(() => (this.launching = undefined));
  }

  async reseal(desired: ServiceDesired, sealedEnv: readonly string[]): Promise<void> {
    this.current = { ...this.current, desired, sealedEnv };
    await this.deps.store.write("Service", this.name, this.current);
  }

  /** What to start: the recorded spec with the full env, or undefined while the secret values are not known. */
  private runnable(): ServiceDesired | undefined {
    return this.plainEnv === undefined ? undefined : { ...this.current.desired, env: this.plainEnv };
  }

  snapshot(): ServiceSnapshot {
    switch (this.phase) {
      case "running":
        return { phase: "running", pid: this.current.pid, ...(this.check ? { check: this.check } : {}) };
      case "backoff":
        return { phase: "backoff", lastExit: this.lastExit, delaySeconds: this.delaySeconds, restart: this.restarts, nextAt: this.nextAt };
      case "exited":
        return { phase: "exited", lastExit: this.lastExit, policy: this.current.desired.restart.policy };
      case "waiting":
        return { phase: "waiting", lastExit: this.lastExit, sealedEnv: this.current.sealedEnv };
      case "stopping":
        return { phase: "stopping" };
      default:
        return { phase: "stopped" };
    }
  }

  /** Follows the current process: through its 'exit' event when this agent started it, else by polling. */
  watch(exit: SpawnedProcess["exit"] | undefined): void {
    const generation = ++this.generation;
    this.phase = "running";
    const hc = this.current.desired.healthCheck;
    this.check = hc ? { passedOnce: false, failures: 0, threshold: hc.failureThreshold } : undefined;
    if (exit) {
      this.exited = exit.then(({ code, signal }) => {
        if (generation === this.generation) this.handleLoss(describeExit(code, signal), code);
      });
    } else {
      this.exited = undefined;
      const identity: ProcessIdentity = this.current;
      this.every(this.deps.livenessPollMs, () => {
        if (generation === this.generation && !isAlive(identity)) this.handleLoss(describeExit(null, null), null);
      });
    }
    // A process adopted from an earlier agent is probed at once; a fresh one gets one interval to come up.
    if (hc) this.probeAfter(exit ? hc.intervalSeconds * 1000 : 0, generation);
    this.reportHealth();
  }

  async settle(): Promise<void> {
    if (this.phase !== "running" || isAlive(this.current)) return;
    const generation = this.generation;
    // The kernel reaped the child; its 'exit' event (with the code the restart policy needs) is a turn or two away.
    if (this.exited) {
      // Kept referenced: the child is not, and this wait must hold the event loop until the exit arrives.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.exited, new Promise((resolve) => (timer = setTimeout(resolve, 1000)))]);
      clearTimeout(timer);
    }
    if (generation === this.generation && this.phase === "running" && !isAlive(this.current)) this.handleLoss(describeExit(null, null), null);
  }

  /** The process is gone: tell watchers, then restart it after a backoff or leave it down. */
  handleLoss(lastExit: string, exitCode: number | null): void {
    this.clearTimers();
    this.generation++;
    if (this.current.stopped) {
      this.phase = "stopped";
      return;
    }
    this.lastExit = lastExit;
    this.deps.notify(this.name, this.current.owner, `service ${this.name} ${lastExit}`);
    if (!shouldRestart(this.current.desired.restart, exitCode)) {
      this.phase = "exited";
      this.reportHealth();
      return;
    }
    // Started without its secret values it would fail, or worse run misconfigured: remember() starts it.
    if (!this.runnable()) {
      this.phase = "waiting";
      this.reportHealth();
      return;
    }
    if (Date.now() - this.current.startedAt >= this.deps.backoffResetMs) this.restarts = 0;
    this.delaySeconds = restartDelaySeconds(this.current.desired.restart, this.restarts);
    this.restarts++;
    this.nextAt = Date.now() + this.delaySeconds * 1000;
    this.phase = "backoff";
    this.after(this.delaySeconds * 1000, () => {
      this.launching = this.relaunch().finally(() => (this.launching = undefined));
    });
    this.reportHealth();
  }

  private async relaunch(): Promise<void> {
    if (this.phase !== "backoff") return;
    const desired = this.runnable();
    if (!desired) {
      this.phase = "waiting";
      this.reportHealth();
      return;
    }
    try {
      const started = await spawnService(this.current, desired, this.deps);
      this.current = { ...this.current, ...started.identity, startedAt: Date.now() };
      await this.deps.store.write("Service", this.name, this.current);
      // A stop() that came in meanwhile waits for this launch and then stops the new process itself.
      if (this.phase === "backoff") this.watch(started.exit);
    } catch (error) {
      if (this.phase !== "backoff") return;
      const reason = error instanceof Error ? error.message : String(error);
      this.current = { ...this.current, startedAt: Date.now() };
      this.handleLoss(`could not be started: ${reason}`, null);
    }
  }

  async stop(): Promise<void> {
    this.phase = "stopping";
    this.clearTimers();
    this.generation++;
    await this.launching;
    const { signal, gracePeriodSeconds } = this.current.desired.stop;
    await stopProcessGroup(this.current, signal, gracePeriodSeconds * 1000);
    this.phase = "stopped";
  }

  detach(): void {
    this.phase = "detached";
    this.clearTimers();
    this.generation++;
  }

  private probeAfter(delayMs: number, generation: number): void {
    const hc = this.current.desired.healthCheck;
    if (!hc) return;
    this.after(delayMs, () => {
      const env = this.runnable()?.env;
      // A command probe gets the service's env; until its secret values are known it is not run (nor counted).
      if (env === undefined && hc.exec) {
        if (generation === this.generation) this.probeAfter(hc.intervalSeconds * 1000, generation);
        return;
      }
      const context = { cwd: this.current.desired.workingDir, env: processEnv(env ?? {}) };
      void runProbe(hc, context).then((result) => {
        if (generation !== this.generation || this.phase !== "running" || !this.check) return;
        const starting = Date.now() - this.current.startedAt < hc.startPeriodSeconds * 1000;
        if (result.ok) this.check = { ...this.check, passedOnce: true, failures: 0 };
        else if (!starting) this.check = { ...this.check, failures: this.check.failures + 1, lastFailure: result.message };
        this.reportHealth();
        this.probeAfter(hc.intervalSeconds * 1000, generation);
      });
    });
  }

  /** Tells watchers when the health status moved (not on the first evaluation). */
  private reportHealth(): void {
    const health = serviceHealth(this.snapshot());
    const previous = this.lastStatus;
    this.lastStatus = health.status;
    if (previous !== undefined && previous !== health.status) {
      this.deps.notify(this.name, this.current.owner, `service ${this.name} is ${health.status.toLowerCase()}: ${health.message}`);
    }
  }

  private after(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  private every(ms: number, run: () => void): void {
    const timer = setInterval(run, ms);
    timer.unref();
    this.timers.add(timer);
  }

  private clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
