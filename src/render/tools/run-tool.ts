import { spawn } from "node:child_process";
import { stalled, transient } from "../../core/errors.js";

/** How a rendering tool is run. */
export interface ToolRun {
  /** Executable name (looked up on PATH) or path. */
  readonly command: string;
  readonly args: readonly string[];
  /** Directory the tool runs in: the read-only checkout; nothing is copied. */
  readonly cwd: string;
  /** What the run renders, for messages: `kustomize build apps/web`. */
  readonly what: string;
  /** What to install when the tool is missing: `kustomize or kubectl`. */
  readonly install: string;
  readonly timeoutMs: number;
  /** Output past this many bytes stops the tool: a runaway template cannot fill memory. */
  readonly maxOutputBytes: number;
  readonly env?: NodeJS.ProcessEnv;
}

/** Default limits: generous for real charts, small enough to stop a runaway one. */
export const TOOL_DEFAULTS = { timeoutMs: 60_000, maxOutputBytes: 64 * 1024 * 1024 } as const;

const MAX_STDERR = 64 * 1024;

/**
 * Runs a rendering tool and returns its standard output. Throws a stalled
 * FerryError when the tool is missing (saying what to install), exits with
 * an error (keeping its message), or prints too much; a transient one when
 * it does not finish in time (the machine may be busy).
 */
export function runTool(run: ToolRun): Promise<string> {
  return new Promise((resolve, reject) => {
    // Its own process group, so stopping it also stops what it started (a shell script's children).
    const child = spawn(run.command, [...run.args], { cwd: run.cwd, env: run.env ?? process.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = "";
    let failure: Error | undefined;
    const stop = (error: Error): void => {
      failure ??= error;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    };
    const timer = setTimeout(() => stop(transient("RenderTimeout", `${run.what}: did not finish within ${Math.round(run.timeoutMs / 1000)}s`)), run.timeoutMs);
    child.stdout.on("data", (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > run.maxOutputBytes) stop(stalled("RenderToolFailed", `${run.what}: output exceeds ${Math.round(run.maxOutputBytes / 1024 / 1024)} MiB`));
      else out.push(chunk);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      if (err.length < MAX_STDERR) err += chunk.toString("utf8");
    });
    child.on("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (error.code === "ENOENT") reject(stalled("RenderToolMissing", `${run.what}: ${run.command} is not installed: install ${run.install}`, { cause: error }));
      else reject(stalled("RenderToolFailed", `${run.what}: could not run ${run.command}: ${error.message}`, { cause: error }));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (failure) return reject(failure);
      if (code === 0) return resolve(Buffer.concat(out).toString("utf8"));
      const message = toolMessage(err) || `exited with ${code === null ? `signal ${signal ?? "?"}` : `code ${code}`}`;
      reject(stalled("RenderToolFailed", `${run.what} failed: ${message}`));
    });
  });
}

/** The tool's own message, without log prefixes and blank lines, on one line when short. */
function toolMessage(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.replace(/^E\d{4} [\d:.]+\s+\d+ [\w.]+:\d+\] /, "").trim())
    .filter((l) => l !== "" && !l.startsWith("# Warning:"));
  return lines.join("; ").slice(0, 4000);
}
