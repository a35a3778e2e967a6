import type { ChildProcess } from "node:child_process";
import type { HealthStatus } from "../../core/health.js";
import { runProbe } from "./health-probe.js";
import type { ProcessIdentity } from "./processes.js";
import { isAlive, stopProcessGroup } from "./processes.js";
import type { CheckState, ServiceDesired, ServiceRecord, ServiceSnapshot } from "./service-state.js";
import { describeExit, restartDelaySeconds, serviceHealth, shouldRestart } from "./service-state.js";
import { spawnDetached } from "./spawn-detached.js";
import type { StateStore } from "./state-store.js";

/** What a supervisor needs from its target. */
export interface SupervisorDeps {
  readonly store: StateStore;
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

/** Starts a new process for a service, records it, and supervises it. */
export async function launchService(
  base: Omit<ServiceRecord, "pid" | "startTime" | "startedAt">,
  deps: SupervisorDeps,
): Promise<ServiceSupervisor> {
  const started = await spawnService(base.name, base.desired, deps.store);
  const record: ServiceRecord = { ...base, ...started.identity, startedAt: Date.now() };
  await deps.store.write("Service", base.name, record);
  const supervisor = new Supervisor(record, deps);
  supervisor.watch(started.child);
  return supervisor;
}

/** Supervises a recorded process this agent did not start; a dead one is handled as an exit. */
export function adoptService(record: ServiceRecord, deps: SupervisorDeps): ServiceSupervisor {
  const supervisor = new Supervisor(record, deps);
  if (isAlive(record)) supervisor.watch(undefined);
  else supervisor.handleLoss(`is not running (pid ${record.pid} is gone)`, null);
  return supervisor;
}

function spawnService(name: string, desired: ServiceDesired, store: StateStore): Promise<{ child: ChildProcess; identity: ProcessIdentity }> {
  return spawnDetached({
    command: desired.command,
    args: desired.args,
    cwd: desired.workingDir,
    env: processEnv(desired.env),
    logPath: store.logPath("Service", name),
    logMode: "append",
  });
}

type Phase = "running" | "backoff" | "exited" | "stopping" | "stopped" | "detached";

class Supervisor implements ServiceSupervisor {
  readonly name: string;
  private current: ServiceRecord;
  private phase: Phase = "exited";
  private lastExit = "";
  private restarts = 0;
  private delaySeconds = 0;
  private check: CheckState | undefined;
  /** Bumped whenever the process is replaced or supervision ends, so late events of an old process are ignored. */
  private generation = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private launching: Promise<void> | undefined;
  private lastStatus: HealthStatus | undefined;

  constructor(
    record: ServiceRecord,
    private readonly deps: SupervisorDeps,
  ) {
    this.name = record.name;
    this.current = record;
  }

  record(): ServiceRecord {
    return this.current;
  }

  snapshot(): ServiceSnapshot {
    switch (this.phase) {
      case "running":
        return { phase: "running", pid: this.current.pid, ...(this.check ? { check: this.check } : {}) };
      case "backoff":
        return { phase: "backoff", lastExit: this.lastExit, delaySeconds: this.delaySeconds, restart: this.restarts };
      case "exited":
        return { phase: "exited", lastExit: this.lastExit, policy: this.current.desired.restart.policy };
      case "stopping":
        return { phase: "stopping" };
      default:
        return { phase: "stopped" };
    }
  }

  /** Follows the current process: through its 'exit' event when this agent started it, else by polling. */
  watch(child: ChildProcess | undefined): void {
    const generation = ++this.generation;
    this.phase = "running";
    const hc = this.current.desired.healthCheck;
    this.check = hc ? { passedOnce: false, failures: 0, threshold: hc.failureThreshold } : undefined;
    if (child) {
      child.once("exit", (code, signal) => {
        if (generation === this.generation) this.handleLoss(describeExit(code, signal), code);
      });
    } else {
      const identity: ProcessIdentity = this.current;
      this.every(this.deps.livenessPollMs, () => {
        if (generation === this.generation && !isAlive(identity)) this.handleLoss(describeExit(null, null), null);
      });
    }
    // A process adopted from an earlier agent is probed at once; a fresh one gets one interval to come up.
    if (hc) this.probeAfter(child ? hc.intervalSeconds * 1000 : 0, generation);
    this.reportHealth();
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
    if (Date.now() - this.current.startedAt >= this.deps.backoffResetMs) this.restarts = 0;
    this.delaySeconds = restartDelaySeconds(this.current.desired.restart, this.restarts);
    this.restarts++;
    this.phase = "backoff";
    this.after(this.delaySeconds * 1000, () => {
      this.launching = this.relaunch().finally(() => (this.launching = undefined));
    });
    this.reportHealth();
  }

  private async relaunch(): Promise<void> {
    if (this.phase !== "backoff") return;
    try {
      const started = await spawnService(this.name, this.current.desired, this.deps.store);
      this.current = { ...this.current, ...started.identity, startedAt: Date.now() };
      await this.deps.store.write("Service", this.name, this.current);
      // A stop() that came in meanwhile waits for this launch and then stops the new process itself.
      if (this.phase === "backoff") this.watch(started.child);
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
      const context = { cwd: this.current.desired.workingDir, env: processEnv(this.current.desired.env) };
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
