import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Agent } from "../agent/agent.js";
import { parseResourceKey } from "../core/ids.js";
import type { ApplicationStatus } from "../engine/status.js";
import { runGit } from "../source/git.js";
import { createHostTarget } from "../targets/host/host-target.js";
import { exampleFiles } from "./example-repository.js";

/** The folders of a quickstart. */
export interface QuickstartLayout {
  readonly dir: string;
  /** The Git repository holding the desired state. */
  readonly repo: string;
  /** The host target's root: files and service working directories. */
  readonly live: string;
  /** The agent's state directory. */
  readonly state: string;
}

/** Where a quickstart in `dir` keeps its parts. */
export function quickstartLayout(dir: string): QuickstartLayout {
  const abs = resolve(dir);
  return { dir: abs, repo: join(abs, "repo"), live: join(abs, "live"), state: join(abs, ".ferry") };
}

/** The folder name `ferry quickstart` uses when none is given. */
export const DEFAULT_QUICKSTART_DIR = "ferry-quickstart";

/** Whether `dir` holds a quickstart: the example's Git repository in repo/ and the host root live/ beside it. */
export function isQuickstart(dir: string): boolean {
  const layout = quickstartLayout(dir);
  return existsSync(join(layout.repo, ".git")) && existsSync(join(layout.repo, "ferry")) && existsSync(layout.live);
}

/**
 * The quickstart `--reset` means: the folder named (only when it is one), or
 * without a name ./ferry-quickstart, else the quickstart that `cwd` is inside
 * (its repo/ folder, say, where the guide sends people). Undefined when there
 * is none, so a reset never removes a folder that is not a quickstart.
 */
export function findQuickstart(dir: string | undefined, cwd: string): QuickstartLayout | undefined {
  const named = resolve(cwd, dir ?? DEFAULT_QUICKSTART_DIR);
  if (isQuickstart(named)) return quickstartLayout(named);
  if (dir !== undefined) return undefined;
  for (let current = resolve(cwd); ; current = dirname(current)) {
    if (isQuickstart(current)) return quickstartLayout(current);
    if (dirname(current) === current) return undefined;
  }
}

/** The pid of the example's service, as the host target reports it in the status of application web. */
export function servicePid(statuses: readonly ApplicationStatus[]): number | undefined {
  const web = statuses.find((s) => s.name === "web");
  const service = web?.inventory.find((e) => {
    const ref = parseResourceKey(e.key);
    return ref.kind === "Service" && ref.name === "web";
  });
  const pid = /\bpid (\d+)\b/.exec(service?.health.message ?? "")?.[1];
  return pid !== undefined ? Number(pid) : undefined;
}

/**
 * Creates the example repository (once) and returns the port its service
 * listens on. An existing quickstart is reused as it is.
 */
export async function createQuickstart(layout: QuickstartLayout, wantedPort: number): Promise<{ created: boolean; port: number }> {
  if (existsSync(join(layout.repo, ".git"))) {
    const port = Number(/PORT: "(\d+)"/.exec(await runGit(["show", "HEAD:apps/web/service.yaml"], { cwd: layout.repo }))?.[1] ?? wantedPort);
    return { created: false, port };
  }
  const port = wantedPort === 0 ? await freePort() : wantedPort;
  for (const [path, content] of Object.entries(exampleFiles(port))) {
    await mkdir(dirname(join(layout.repo, path)), { recursive: true });
    await writeFile(join(layout.repo, path), content);
  }
  await mkdir(layout.live, { recursive: true });
  await runGit(["init", "-q", "-b", "main"], { cwd: layout.repo });
  // Commits need an author; keep the user's own when git has one.
  const name = await runGit(["config", "user.name"], { cwd: layout.repo }).catch(() => "");
  if (!name.trim()) {
    await runGit(["config", "user.name", "Ferry Quickstart"], { cwd: layout.repo });
    await runGit(["config", "user.email", "quickstart@ferry.invalid"], { cwd: layout.repo });
  }
  await runGit(["add", "-A"], { cwd: layout.repo });
  await runGit(["commit", "-q", "-m", "Add the web application"], { cwd: layout.repo });
  return { created: true, port };
}

/** The agent of a quickstart: polls every two seconds so edits show up fast. */
export function quickstartAgent(layout: QuickstartLayout): Agent {
  return new Agent({
    repo: layout.repo,
    ref: "main",
    path: "ferry",
    stateDir: layout.state,
    root: layout.live,
    pollIntervalMs: 2000,
    jitter: 0.1,
    healthTimeoutMs: 60_000,
    listen: { host: "127.0.0.1", port: 0 },
  });
}

/** Stops the quickstart's services and removes its folder. */
export async function resetQuickstart(layout: QuickstartLayout): Promise<void> {
  if (existsSync(layout.state)) {
    const host = createHostTarget({ root: layout.live, stateDir: join(layout.state, "host") });
    await host.stopAll();
    await host.close();
  }
  await rm(layout.dir, { recursive: true, force: true });
}

/**
 * What to try next, printed once the example runs; `dashboard` is the agent's
 * dashboard URL with its read token, `pid` the service's process (killed by
 * its pid: a pattern would match other people's processes too).
 */
export function quickstartGuide(layout: QuickstartLayout, port: number, dashboard?: string, pid?: number): string {
  const cli = fileURLToPath(new URL("../cli/main.js", import.meta.url));
  const repo = relative(process.cwd(), layout.repo) || ".";
  return `
Ferry is running the quickstart: Git is the desired state, this agent keeps it applied.

  service        http://127.0.0.1:${port}/
${dashboard ? `  dashboard      ${dashboard}
` : ""}  desired state  ${layout.repo}   (a Git repository)
  live files     ${layout.live}
  agent state    ${layout.state}

Try it, in another terminal:

  alias ferry='node ${cli}'
  cd ${repo}
  curl http://127.0.0.1:${port}/
  ferry status
${dashboard ? `
  # open the dashboard (link above): every step below shows up there as it happens;
  # to sync or roll back from it, paste "token" from ${join(layout.state, "agent.json")}
` : ""}
  # change the greeting in Git: it is served a few seconds after the commit
  sed -i 's/Hello from Ferry/Hello again/' apps/web/files.yaml && git commit -qam "New greeting"
  curl http://127.0.0.1:${port}/

  # kill the service${pid !== undefined ? ` (pid ${pid}; ferry status web shows the current one)` : " (its pid is in: ferry status web)"}: it comes back
  kill ${pid ?? "<pid>"}; sleep 3; curl http://127.0.0.1:${port}/

  # edit a managed file by hand: Ferry notices the drift and puts Git's version back
  echo '{"greeting":"edited by hand"}' > ../live/web/config.json; sleep 2; cat ../live/web/config.json

  # commit broken YAML: a clear error, and the last good version keeps serving
  echo 'spec: [' >> apps/web/service.yaml && git commit -qam "Broken"
  sleep 3; ferry status web; curl http://127.0.0.1:${port}/

  # roll back with git: the agent applies the revert like any commit
  git revert --no-edit HEAD

  # release 2: the service is replaced, and the history records each version
  sed -i 's/"1"$/"2"/' apps/web/service.yaml && git commit -qam "Release 2"
  sleep 3; ferry history web; ferry history --version 1

  # roll back to release 1: Ferry commits it to Git, and the agent applies it
  ferry rollback web --reason "trying it out"; git log -1; sleep 3; curl http://127.0.0.1:${port}/

Ctrl-C stops the agent; the service keeps running and the next agent adopts it.
Remove everything with: ferry quickstart --reset
`;
}

async function freePort(): Promise<number> {
  for (const candidate of [8080, 8081, 8082, 8090, 0]) {
    const port = await new Promise<number | undefined>((resolvePort) => {
      const server = createServer();
      server.once("error", () => resolvePort(undefined));
      server.listen(candidate, "127.0.0.1", () => {
        const address = server.address();
        server.close(() => resolvePort(typeof address === "object" && address ? address.port : undefined));
      });
    });
    if (port) return port;
  }
  throw new Error("no free port on 127.0.0.1");
}
