import { closeSync, existsSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { SignaturePolicy } from "../source/signatures.js";

/** What a running agent publishes in its state directory so the CLI can reach it. */
export interface AgentInfo {
  readonly pid: number;
  /** Base URL of the control API, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Bearer token for the control API; the file is readable by its owner only. */
  readonly token: string;
  /** Bearer token that may only read (GET): for dashboards and monitoring. */
  readonly readToken?: string;
  readonly repo: string;
  readonly ref: string;
  readonly path: string;
  readonly root: string;
  readonly startedAt: string;
  /** The certificate the API serves over HTTPS; the CLI accepts exactly this one. */
  readonly tlsCertFile?: string;
}

/**
 * The dashboard's address with a token in the fragment (`#token=`): browsers
 * never send a fragment to the server, so the token stays out of requests and logs.
 */
export function dashboardUrl(apiUrl: string, token: string): string {
  return `${apiUrl}/#token=${encodeURIComponent(token)}`;
}

/** The state directory: `--state-dir`, else $FERRY_STATE_DIR, else the nearest `.ferry` up from cwd, else `./.ferry`. */
export function resolveStateDir(flag: string | undefined, cwd = process.cwd()): string {
  if (flag) return resolve(cwd, flag);
  if (process.env.FERRY_STATE_DIR) return resolve(cwd, process.env.FERRY_STATE_DIR);
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, ".ferry"))) return join(dir, ".ferry");
    if (dirname(dir) === dir) break;
  }
  return resolve(cwd, ".ferry");
}

/** Writes agent.json (mode 0600) atomically. */
export async function writeAgentInfo(stateDir: string, info: AgentInfo): Promise<void> {
  await writePrivateJson(stateDir, "agent.json", info);
}

/** Writes a JSON file readable by its owner only, through a temporary file and a rename. */
export async function writePrivateJson(dir: string, name: string, value: unknown): Promise<void> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, name);
  await writeFile(`${path}.tmp`, JSON.stringify(value, null, 2) + "\n", { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

/**
 * Removes the temporary files of writes a killed agent left in the state
 * directory and its application records (`*.tmp`). Called by the agent that
 * holds the lock, before it writes anything.
 */
export async function removeTemporaryFiles(stateDir: string): Promise<void> {
  for (const dir of [stateDir, join(stateDir, "apps")]) {
    const entries = await readdir(dir).catch(() => [] as string[]);
    for (const entry of entries) if (entry.endsWith(".tmp")) await rm(join(dir, entry), { force: true });
  }
}

/** Reads agent.json; undefined when absent or when the agent that wrote it is gone. */
export async function readAgentInfo(stateDir: string): Promise<AgentInfo | undefined> {
  let info: AgentInfo;
  try {
    info = JSON.parse(await readFile(join(stateDir, "agent.json"), "utf8")) as AgentInfo;
  } catch {
    return undefined;
  }
  return isAlive(info.pid) ? info : undefined;
}

/** Removes agent.json when it is this process's. */
export function clearAgentInfo(stateDir: string): void {
  try {
    const info = JSON.parse(readFileSync(join(stateDir, "agent.json"), "utf8")) as AgentInfo;
    if (info.pid === process.pid) rmSync(join(stateDir, "agent.json"), { force: true });
  } catch {
    return;
  }
}

/**
 * Takes the state directory's lock so two agents never manage the same
 * services. A lock left by a dead process is taken over. Returns the release.
 */
export async function lockStateDir(stateDir: string): Promise<() => void> {
  await mkdir(stateDir, { recursive: true });
  const path = join(stateDir, "agent.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(path, "utf8") === String(process.pid)) rmSync(path, { force: true });
        } catch {
          return;
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = Number(readFileSync(path, "utf8"));
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new Error(`another ferry agent (pid ${holder}) is using the state directory ${stateDir}; stop it first or use --state-dir`);
      }
      rmSync(path, { force: true });
    }
  }
  throw new Error(`cannot lock the state directory ${stateDir}`);
}

/** True when a process with this pid exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** What `ferry agent` was started with, kept so one-shot commands can work without a running agent. */
export interface AgentSettings {
  readonly repo: string;
  readonly ref: string;
  readonly path: string;
  readonly root: string;
  /** URL of the history the agent writes. */
  readonly history?: string;
  /** The keys commits must be signed with, when the agent verifies signatures. */
  readonly signatures?: SignaturePolicy;
  /** Kubeconfig file and default context of the Kubernetes clusters. */
  readonly kubeconfig?: string;
  readonly kubeContext?: string;
  /** The age identity file (absolute path, never its content) that decrypts secrets in Git. */
  readonly ageKeyFile?: string;
  /** The SSH private key file (absolute path, never its content) the agent signs its commits with. */
  readonly signCommits?: string;
}

/** Saves the settings of the agent using this state directory. */
export async function saveAgentSettings(stateDir: string, settings: AgentSettings): Promise<void> {
  await writePrivateJson(stateDir, "settings.json", settings);
}

/** The settings last saved in this state directory, if any. */
export async function loadAgentSettings(stateDir: string): Promise<AgentSettings | undefined> {
  try {
    return JSON.parse(await readFile(join(stateDir, "settings.json"), "utf8")) as AgentSettings;
  } catch {
    return undefined;
  }
}
