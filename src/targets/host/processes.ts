import { constants, readFileSync } from "node:fs";
import { access, readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** A process as recorded: its pid and the kernel's start time, so a reused pid is not taken for it. */
export interface ProcessIdentity {
  readonly pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks after boot), as a string. */
  readonly startTime: string;
}

/** The fields of /proc/<pid>/stat Ferry needs. */
export interface ProcStat {
  /** One letter: R, S, D, Z (zombie), X (dead), ... */
  readonly state: string;
  /** Field 5: the process group; a service is the leader of its own. */
  readonly pgrp: number;
  readonly startTime: string;
}

/**
 * Parses /proc/<pid>/stat. The command name (field 2) sits in parentheses and
 * may itself contain spaces and parentheses, so fields are counted after the last `)`.
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(")");
  if (close === -1) return undefined;
  const fields = text.slice(close + 1).trim().split(/\s+/);
  // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
  const state = fields[0];
  const pgrp = Number(fields[2]);
  const startTime = fields[19];
  if (state === undefined || startTime === undefined || !/^\d+$/.test(startTime) || !Number.isInteger(pgrp)) return undefined;
  return { state, pgrp, startTime };
}

/** Reads /proc/<pid>/stat; undefined when the process does not exist. */
export function readProcStat(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return undefined;
  }
}

/** True while the recorded process runs: the pid exists, is not a zombie, and started when recorded. */
export function isAlive(identity: ProcessIdentity): boolean {
  try {
    process.kill(identity.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const procStat = readProcStat(identity.pid);
  return procStat !== undefined && procStat.state !== "Z" && procStat.state !== "X" && procStat.startTime === identity.startTime;
}

/** Sends a signal to the process group led by `pid`; a group that is gone is fine. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

/** Polls until the process is gone or the time is up; true when it is gone. */
export async function waitUntilDead(identity: ProcessIdentity, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!isAlive(identity)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(Math.min(50, Math.max(1, deadline - Date.now())));
  }
}

/**
 * Stops a process group gracefully: `signal` to the group, up to `graceMs` for
 * the leader to exit, then SIGKILL to the whole group (which also reaps
 * children the leader left behind). Returns true when SIGKILL was needed.
 */
export async function stopProcessGroup(identity: ProcessIdentity, signal: NodeJS.Signals, graceMs: number): Promise<boolean> {
  if (!isAlive(identity)) return false;
  signalGroup(identity.pid, signal);
  const exited = await waitUntilDead(identity, graceMs);
  signalGroup(identity.pid, "SIGKILL");
  if (!exited) await waitUntilDead(identity, 10_000);
  return !exited;
}

/**
 * Finds the executable a command names, as execvp would: a name with a slash
 * is a path (relative to the working directory); a bare name is looked up on PATH.
 */
export async function findExecutable(command: string, cwd: string, searchPath: string | undefined): Promise<string | undefined> {
  if (command.includes("/")) {
    const candidate = path.resolve(cwd, command);
    return (await isExecutableFile(candidate)) ? candidate : undefined;
  }
  for (const dir of (searchPath ?? "").split(path.delimiter)) {
    if (dir === "") continue;
    const candidate = path.resolve(cwd, dir, command);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

async function isExecutableFile(candidate: string): Promise<boolean> {
  try {
    const info = await stat(candidate);
    if (!info.isFile()) return false;
    await access(candidate, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The variable a service process carries so a later agent finds it without its record: `<state-dir-id>/<application>/<kind>/<name>`. */
export const OWNER_MARK_ENV = "FERRY_OWNER";

/** The owner mark a process of this state directory carries (see findMarkedProcesses). */
export function ownerMark(stateId: string, owner: string, kind: "Service" | "Job", id: string): string {
  return `${stateId}/${owner}/${kind}/${id}`;
}

/** A live process group leader carrying an owner mark. */
export interface MarkedProcess extends ProcessIdentity {
  readonly application: string;
  readonly kind: string;
  readonly name: string;
}

/**
 * Finds the live process group leaders whose environment carries the owner
 * mark of one state directory (`stateId`), through /proc: what a killed agent
 * started but may not have recorded. Processes of other users (unreadable
 * environments) and children that inherited the mark are left out.
 */
export async function findMarkedProcesses(stateId: string): Promise<MarkedProcess[]> {
  let entries: string[];
  try {
    entries = await readdir("/proc");
  } catch {
    return [];
  }
  const prefix = `${OWNER_MARK_ENV}=${stateId}/`;
  const found: MarkedProcess[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const environ = await readFile(`/proc/${pid}/environ`, "latin1").catch(() => "");
    const mark = environ.split("\0").find((v) => v.startsWith(prefix));
    if (!mark) continue;
    const procStat = readProcStat(pid);
    if (!procStat || procStat.pgrp !== pid || procStat.state === "Z" || procStat.state === "X") continue;
    const [application, kind, ...name] = mark.slice(prefix.length).split("/");
    if (!application || !kind || name.length === 0) continue;
    found.push({ pid, startTime: procStat.startTime, application, kind, name: name.join("/") });
  }
  return found;
}
