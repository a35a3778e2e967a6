import { mkdir, mkdtemp, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { resourceKey } from "../../src/core/ids.js";
import type { JsonObject } from "../../src/core/json.js";
import type { RenderedObject } from "../../src/core/objects.js";
import type { ObjectContext } from "../../src/targets/target.js";
import type { HostTarget, HostTargetOptions } from "../../src/targets/host/host-target.js";
import { createHostTarget } from "../../src/targets/host/host-target.js";
import { HOST_API_VERSION } from "../../src/targets/host/host-schemas.js";
import { readProcStat } from "../../src/targets/host/processes.js";

/** A rendered host object as the render stage would produce it, declared in `manifestFile`. */
export function hostObject(kind: string, name: string, spec: JsonObject, manifestFile = "deploy/app.yaml"): RenderedObject {
  return {
    key: resourceKey(HOST_API_VERSION, kind, name),
    manifest: { apiVersion: HOST_API_VERSION, kind, metadata: { name }, spec },
    origin: {
      file: manifestFile,
      line: 1,
      column: 1,
      document: 0,
      positions: { "/spec": { line: 5, column: 3 }, "/spec/command": { line: 6, column: 14 }, "/spec/path": { line: 6, column: 11 } },
    },
  };
}

/** A sandbox for one test: an allowed root, a state directory, an artifact directory, and the targets made over them. */
export interface HostSandbox {
  readonly base: string;
  readonly root: string;
  readonly stateDir: string;
  readonly artifact: string;
  readonly context: ObjectContext;
  /** A target over the sandbox; every one made is stopped and closed by `cleanup`. */
  target(options?: Partial<HostTargetOptions>): HostTarget;
  cleanup(): Promise<void>;
}

/** Creates a sandbox under the system's temporary directory. */
export async function createSandbox(application = "demo"): Promise<HostSandbox> {
  const base = await realpath(await mkdtemp(path.join(os.tmpdir(), "ferry-host-")));
  await mkdir(path.join(base, "artifact"), { recursive: true });
  const targets: HostTarget[] = [];
  const sandbox: HostSandbox = {
    base,
    root: path.join(base, "root"),
    stateDir: path.join(base, "state"),
    artifact: path.join(base, "artifact"),
    context: { application, artifactDirectory: path.join(base, "artifact") },
    target(options = {}) {
      const target = createHostTarget({
        root: sandbox.root,
        stateDir: sandbox.stateDir,
        filePollIntervalMs: 50,
        livenessPollMs: 50,
        ...options,
      });
      targets.push(target);
      return target;
    },
    async cleanup() {
      for (const target of targets) {
        await target.stopAll().catch(() => undefined);
        await target.close();
      }
      await rm(base, { recursive: true, force: true });
    },
  };
  return sandbox;
}

/** Polls until `check` returns a value other than undefined or false; fails after a generous deadline. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** True while a pid exists and is not a zombie. */
export function pidAlive(pid: number): boolean {
  const stat = readProcStat(pid);
  return stat !== undefined && stat.state !== "Z" && stat.state !== "X";
}
