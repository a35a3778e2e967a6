import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { once } from "node:events";
import path from "node:path";
import type { ProcessIdentity } from "./processes.js";
import { readProcStat } from "./processes.js";

/** What to start. */
export interface SpawnRequest {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** Where stdout and stderr go. */
  readonly logPath: string;
  /** Append to the log (services) or start it afresh (job runs). */
  readonly logMode: "append" | "truncate";
}

/** A started process: the handle for 'exit' and the identity to record. */
export interface SpawnedProcess {
  readonly child: ChildProcess;
  readonly identity: ProcessIdentity;
  /** Settles with the exit; listened for from the start, so an exit during a later await is not missed. */
  readonly exit: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>;
}

/**
 * Starts a process in its own process group, detached from the agent, with
 * its output going to a log file, so it outlives the agent and can be
 * signalled as a group. The handle is unref'd: the agent may exit while it runs.
 */
export async function spawnDetached(request: SpawnRequest): Promise<SpawnedProcess> {
  mkdirSync(path.dirname(request.logPath), { recursive: true });
  const fd = openSync(request.logPath, request.logMode === "append" ? "a" : "w", 0o600);
  let child: ChildProcess;
  try {
    child = spawn(request.command, [...request.args], {
      cwd: request.cwd,
      env: { ...request.env },
      detached: true,
      stdio: ["ignore", fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  const pid = child.pid;
  if (pid === undefined) {
    const [error] = (await once(child, "error")) as [Error];
    throw error;
  }
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  child.unref();
  // Keeps an 'error' after start (a failed kill) from becoming an uncaught exception.
  child.on("error", () => undefined);
  // The child exists until it is reaped in a later turn of the event loop, so its stat is readable here.
  const procStat = readProcStat(pid);
  return { child, identity: { pid, startTime: procStat?.startTime ?? "0" }, exit };
}
