// A real, throwaway PostgreSQL server for tests: initdb into a temporary
// directory, pg_ctl start on a free loopback port, pg_ctl stop and remove it.
// One server per test process, shared by every caller; one database per test.
import { execFile, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, constants, readdirSync, rmSync } from "node:fs";
import { chown, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { freePort } from "./free-port.js";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { Client, escapeIdentifier } from "pg";

/** A PostgreSQL server that tests may create databases on. */
export interface PostgresServer {
  /** Connection URL of the server's `postgres` database, as the superuser. */
  readonly url: string;
  /** Releases this handle; the server stops when the last handle is released. */
  stop(): Promise<void>;
}

/** Why no server can be had, in words a test run prints. */
export interface PostgresSkip {
  readonly skip: string;
}

/** Points a test run at an existing server instead of starting one. */
const URL_ENV = "FERRY_TEST_POSTGRES_URL";
const SUPERUSER = "ferry";
/** initdb and postgres refuse to run as root; as root we run them as this user. */
const SYSTEM_USER = "postgres";
const NOT_INSTALLED = "PostgreSQL is not installed (initdb not found); .ci/run installs it with apt-get install postgresql";
/** A port taken between choosing it and binding it is retried this many times. */
const START_ATTEMPTS = 3;
const COMMAND_TIMEOUT_MS = 60_000;

/** A server this process started, with what it takes to stop it. */
interface LocalServer {
  readonly url: string;
  readonly dir: string;
  readonly dataDir: string;
  readonly pgCtl: string;
  readonly asUser: string | undefined;
}

type Shared = { readonly server: LocalServer | undefined; readonly url: string } | PostgresSkip;

let shared: Promise<Shared> | undefined;
let handles = 0;
const exitFallbacks = new Map<LocalServer, () => void>();

/** A throwaway PostgreSQL server for tests, or the reason there is none. */
export async function startTestPostgres(): Promise<PostgresServer | PostgresSkip> {
  let current: Shared;
  for (;;) {
    const pending = (shared ??= provideServer());
    try {
      current = await pending;
    } catch (error) {
      if (shared === pending) shared = undefined;
      throw error;
    }
    // The last handle may have stopped this server while we waited for it.
    if (shared === pending) break;
  }
  if ("skip" in current) return current;
  const { server, url } = current;
  handles += 1;
  let released = false;
  return {
    url,
    async stop() {
      if (released) return;
      released = true;
      handles -= 1;
      if (handles > 0) return;
      shared = undefined;
      if (server !== undefined) await stopServer(server);
    },
  };
}

/**
 * A fresh empty database on that server (CREATE DATABASE with a unique name), returning its URL; dropped by the returned cleanup.
 * Call drop() before the server's stop(): it needs the server running.
 */
export async function createTestDatabase(server: PostgresServer): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `ferry_test_${process.pid}_${randomBytes(6).toString("hex")}`;
  await query(server.url, `CREATE DATABASE ${escapeIdentifier(name)}`);
  const url = new URL(server.url);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      // FORCE ends connections a failed test left open, which would block the drop.
      await query(server.url, `DROP DATABASE IF EXISTS ${escapeIdentifier(name)} WITH (FORCE)`);
    },
  };
}

async function provideServer(): Promise<Shared> {
  const external = process.env[URL_ENV];
  if (external) return { server: undefined, url: external };
  const bin = findPostgresBin();
  if ("skip" in bin) return bin;
  let asUser: string | undefined;
  if (process.getuid?.() === 0) {
    asUser = SYSTEM_USER;
    if (!systemUserExists(asUser)) {
      return { skip: `running as root, and initdb and postgres refuse root; there is no "${asUser}" system user to run them as` };
    }
  }
  const server = await startServer(bin.dir, asUser);
  return { server, url: server.url };
}

/** The first directory holding both initdb and pg_ctl: PATH, then Debian's versioned directories, newest first. */
function findPostgresBin(): { readonly dir: string } | PostgresSkip {
  const onPath = (process.env.PATH ?? "").split(delimiter).filter((d) => d !== "");
  const dirs = [...onPath, ...debianBinDirs()];
  const both = dirs.find((d) => isExecutable(join(d, "initdb")) && isExecutable(join(d, "pg_ctl")));
  if (both !== undefined) return { dir: both };
  const initdbOnly = dirs.find((d) => isExecutable(join(d, "initdb")));
  if (initdbOnly !== undefined) return { skip: `PostgreSQL is incomplete: ${join(initdbOnly, "initdb")} has no pg_ctl beside it` };
  return { skip: NOT_INSTALLED };
}

function debianBinDirs(): string[] {
  const root = "/usr/lib/postgresql";
  let versions: string[];
  try {
    versions = readdirSync(root);
  } catch {
    return [];
  }
  return versions.sort((a, b) => b.localeCompare(a, "en", { numeric: true })).map((v) => join(root, v, "bin"));
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function systemUserExists(user: string): boolean {
  return spawnSync("id", ["-u", user], { stdio: "ignore" }).status === 0;
}

async function startServer(binDir: string, asUser: string | undefined): Promise<LocalServer> {
  const dir = await mkdtemp(join(tmpdir(), "ferry-pg-"));
  const dataDir = join(dir, "data");
  const pgCtl = join(binDir, "pg_ctl");
  const partial: LocalServer = { url: "", dir, dataDir, pgCtl, asUser };
  try {
    if (asUser !== undefined) {
      await assertReachable(dirname(dir), asUser);
      const { uid, gid } = await userIds(asUser);
      await chown(dir, uid, gid);
    }
    // The C locale works with any encoding, so a machine without UTF-8 locales still initializes.
    await run(asUser, join(binDir, "initdb"), ["-D", dataDir, "-A", "trust", "-U", SUPERUSER, "--no-sync", "-E", "UTF8", "--locale=C"], dir);
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const server: LocalServer = { ...partial, url: `postgres://${SUPERUSER}@127.0.0.1:${port}/postgres` };
      try {
        await startOnPort(server, port);
        const fallback = () => stopServerNow(server);
        exitFallbacks.set(server, fallback);
        process.on("exit", fallback);
        return server;
      } catch (error) {
        const log = await readFile(join(dir, "server.log"), "utf8").catch(() => "");
        if (attempt >= START_ATTEMPTS || !/could not bind|address already in use/i.test(log)) {
          throw new Error(`could not start postgres on port ${port}; its log:\n${log}`, { cause: error });
        }
      }
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function startOnPort(server: LocalServer, port: number): Promise<void> {
  // pg_ctl hands -o to a shell: quote the one value that is a path.
  const options = [
    "-c listen_addresses=127.0.0.1",
    `-c port=${port}`,
    `-c unix_socket_directories='${server.dir}'`,
    "-c fsync=off",
    "-c max_connections=50",
  ].join(" ");
  await run(server.asUser, server.pgCtl, ["start", "-w", "-t", "60", "-D", server.dataDir, "-l", join(server.dir, "server.log"), "-o", options], server.dir);
}

async function stopServer(server: LocalServer): Promise<void> {
  const fallback = exitFallbacks.get(server);
  if (fallback !== undefined) process.off("exit", fallback);
  exitFallbacks.delete(server);
  try {
    await run(server.asUser, server.pgCtl, ["stop", "-w", "-m", "immediate", "-D", server.dataDir], server.dir);
  } finally {
    await rm(server.dir, { recursive: true, force: true });
  }
}

/** The exit fallback: a test run that ends without stop() leaves no server behind. */
function stopServerNow(server: LocalServer): void {
  const [command, args] = asUserCommand(server.asUser, server.pgCtl, ["stop", "-w", "-m", "immediate", "-D", server.dataDir]);
  spawnSync(command, args, { cwd: server.dir, stdio: "ignore", timeout: COMMAND_TIMEOUT_MS });
  rmSync(server.dir, { recursive: true, force: true });
}

/** Every directory above the data directory must be searchable by the user that runs postgres. */
async function assertReachable(dir: string, user: string): Promise<void> {
  for (let d = dir; ; d = dirname(d)) {
    if (((await stat(d)).mode & 0o001) === 0) {
      throw new Error(`the "${user}" user cannot reach ${d} (not searchable by others); set TMPDIR to a directory it can reach`);
    }
    if (dirname(d) === d) return;
  }
}

async function userIds(user: string): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run(undefined, "id", ["-u", user]), run(undefined, "id", ["-g", user])]);
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}

function asUserCommand(asUser: string | undefined, command: string, args: readonly string[]): [string, string[]] {
  return asUser === undefined ? [command, [...args]] : ["runuser", ["-u", asUser, "--", command, ...args]];
}

/** Runs a command to completion, as asUser when given; rejects with its output when it fails. */
function run(asUser: string | undefined, command: string, args: readonly string[], cwd?: string): Promise<string> {
  const [file, argv] = asUserCommand(asUser, command, args);
  return new Promise((resolve, reject) => {
    execFile(file, argv, { cwd, timeout: COMMAND_TIMEOUT_MS, encoding: "utf8" }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${[file, ...argv].join(" ")} failed: ${stderr.trim() || error.message}`, { cause: error }));
      else resolve(stdout);
    });
  });
}

async function query(url: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: url });
  // An error after connect (the server going away) must not crash the test process.
  client.on("error", () => {});
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

