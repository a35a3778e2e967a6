import { spawn } from "node:child_process";
import { connect } from "node:net";
import type { HealthCheckSpec } from "./host-schemas.js";

/** The outcome of one probe; `message` says why it failed. */
export type ProbeResult = { readonly ok: true } | { readonly ok: false; readonly message: string };

/** Where an exec probe runs. */
export interface ProbeContext {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
}

/** Runs one health check once: http (any 2xx or 3xx), tcp (a connection), or exec (exit code 0). */
export async function runProbe(check: HealthCheckSpec, context: ProbeContext): Promise<ProbeResult> {
  const timeoutMs = check.timeoutSeconds * 1000;
  if (check.http) return probeHttp(check.http.url, timeoutMs);
  if (check.tcp) return probeTcp(check.tcp.host ?? "127.0.0.1", check.tcp.port, timeoutMs);
  if (check.exec) return probeExec(check.exec.command, check.exec.args, context, timeoutMs);
  return { ok: false, message: "the health check names no probe" };
}

async function probeHttp(url: string, timeoutMs: number): Promise<ProbeResult> {
  try {
    const response = await fetch(url, { redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    if (response.status >= 200 && response.status < 400) return { ok: true };
    return { ok: false, message: `http check of ${url} returned status ${response.status}` };
  } catch (error) {
    return { ok: false, message: `http check of ${url} failed: ${describeError(error)}` };
  }
}

function probeTcp(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const finish = (result: ProbeResult): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => finish({ ok: false, message: `tcp check of ${host}:${port} timed out` }));
    socket.once("connect", () => finish({ ok: true }));
    socket.once("error", (error) => finish({ ok: false, message: `tcp check of ${host}:${port} failed: ${describeError(error)}` }));
  });
}

function probeExec(command: string, args: readonly string[], context: ProbeContext, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const child = spawn(command, [...args], { cwd: context.cwd, env: { ...context.env }, stdio: "ignore", timeout: timeoutMs, killSignal: "SIGKILL" });
    child.once("error", (error) => resolve({ ok: false, message: `exec check ${command} could not start: ${describeError(error)}` }));
    child.once("exit", (code, signal) => {
      if (code === 0) resolve({ ok: true });
      else if (signal) resolve({ ok: false, message: `exec check ${command} was stopped by ${signal} (timeout ${timeoutMs / 1000}s)` });
      else resolve({ ok: false, message: `exec check ${command} exited with code ${code}` });
    });
  });
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return (error.name === "TimeoutError" ? "timed out" : error.message + cause).toLowerCase();
  }
  return String(error);
}
