import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import type { FerryError } from "../core/errors.js";
import { stalled, transient } from "../core/errors.js";
import { redactSecrets } from "./repository-url.js";

/** How one git command runs. */
export interface GitOptions {
  /** Working directory; the process's own when absent. */
  readonly cwd?: string;
  /** git is killed after this long. Default 60 s. */
  readonly timeoutMs?: number;
  /** Extra variables, e.g. `GIT_INDEX_FILE` for a temporary index. */
  readonly env?: Readonly<Record<string, string>>;
}

/** What a finished git command printed. */
export interface GitOutput {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Default time limit of one git command. */
export const DEFAULT_GIT_TIMEOUT_MS = 60_000;

/**
 * Variables that point git at some other repository, index or config (the
 * list `git rev-parse --local-env-vars` prints). Inherited from a hook or a
 * surrounding checkout they would make git act on the wrong repository.
 */
const REPOSITORY_VARIABLES: readonly string[] = [
  "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_COMMON_DIR", "GIT_CONFIG", "GIT_CONFIG_COUNT", "GIT_CONFIG_PARAMETERS",
  "GIT_DIR", "GIT_GRAFT_FILE", "GIT_IMPLICIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_INTERNAL_SUPER_PREFIX",
  "GIT_NAMESPACE", "GIT_NO_REPLACE_OBJECTS", "GIT_OBJECT_DIRECTORY", "GIT_PREFIX", "GIT_REPLACE_REF_BASE",
  "GIT_SHALLOW_FILE", "GIT_WORK_TREE",
];

/**
 * Settings for every command, so checkouts hold exactly the committed bytes
 * whatever the user's global config says, and git never starts background maintenance.
 */
const CONFIG_FLAGS: readonly string[] = ["-c", "core.autocrlf=false", "-c", "core.eol=lf", "-c", "gc.auto=0", "-c", "maintenance.auto=false"];

/**
 * The environment git runs with: the process's own without repository
 * variables, never prompting for credentials (an agent has nobody to answer),
 * and in the C locale so messages read the same everywhere.
 */
export function gitEnvironment(base: NodeJS.ProcessEnv, extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const name of REPOSITORY_VARIABLES) delete env[name];
  return { ...env, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C", ...extra };
}

/**
 * Runs git and returns its exit code and output whatever the code. Rejects
 * only when git cannot run: a stalled `GitNotFound` when there is no git
 * binary, a transient `GitFailed` on timeout.
 */
export function execGit(args: readonly string[], options: GitOptions = {}): Promise<GitOutput> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_GIT_TIMEOUT_MS;
  return new Promise((resolvePromise, reject) => {
    const child = spawn("git", [...CONFIG_FLAGS, ...args], {
      cwd: options.cwd,
      env: gitEnvironment(process.env, options.env),
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, so a timeout also ends the ssh or helper git started;
      // and no controlling terminal, so nothing can prompt on one.
      detached: true,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      killGroup(child.pid);
      reject(transient("GitFailed", `${describeCommand(args)} timed out after ${formatSeconds(timeoutMs)}`));
    }, timeoutMs);
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (settled) return;
      settled = true;
      reject(spawnFailure(args, options, error));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      if (settled) return;
      settled = true;
      resolvePromise({ code: code ?? -1, stdout: Buffer.concat(stdout).toString("utf8"), stderr: Buffer.concat(stderr).toString("utf8") });
    });
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch (error) {
    // ESRCH: the group is already gone, which is what we wanted.
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

function formatSeconds(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${Math.round(ms / 1000)}s`;
}

/** Runs git and returns its standard output; a non-zero exit is a transient `GitFailed` naming the command. */
export async function runGit(args: readonly string[], options: GitOptions = {}): Promise<string> {
  const output = await execGit(args, options);
  if (output.code !== 0) throw gitFailure(args, output);
  return output.stdout;
}

/** The error for a git command that exited non-zero: the command and the last lines git wrote, secrets masked. */
export function gitFailure(args: readonly string[], output: GitOutput): FerryError {
  const lines = output.stderr.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const detail = lines.slice(-3).join("; ") || "no error output";
  return transient("GitFailed", `${describeCommand(args)} failed (exit ${output.code}): ${redactSecrets(detail)}`);
}

/** `git fetch --depth=1 ...` as people read it: credentials masked, long commands cut short. */
export function describeCommand(args: readonly string[]): string {
  const text = redactSecrets(["git", ...args].join(" "));
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

function spawnFailure(args: readonly string[], options: GitOptions, error: NodeJS.ErrnoException): FerryError {
  if (error.code === "ENOENT") {
    // spawn says ENOENT for a missing working directory too; only blame git when the directory is there.
    if (options.cwd !== undefined && !existsSync(options.cwd)) {
      return transient("GitFailed", `${describeCommand(args)} could not start: directory ${options.cwd} does not exist`, { cause: error });
    }
    return stalled("GitNotFound", "git executable not found on PATH; install git (2.29 or newer) or fix PATH for the ferry process", {
      cause: error,
    });
  }
  return transient("GitFailed", `${describeCommand(args)} could not start: ${error.message}`, { cause: error });
}
