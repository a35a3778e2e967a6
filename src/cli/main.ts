#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { Command, InvalidArgumentError, Option } from "commander";
import { resolveStateDir } from "../agent/state-dir.js";
import { toFerryError } from "../core/errors.js";
import { runAgentCommand } from "./commands/agent.js";
import { runDiffCommand } from "./commands/diff.js";
import { runQuickstartCommand } from "./commands/quickstart.js";
import { runStatusCommand } from "./commands/status.js";
import { runRefreshCommand, runSyncCommand } from "./commands/sync.js";
import { CliError, EXIT } from "./exit-codes.js";

const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string };

const output = (): Option => new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text");

/** Builds the `ferry` command line. Each action sets the exit code through `run`. */
export function buildProgram(): Command {
  const program = new Command("ferry")
    .description("GitOps continuous delivery: Git holds the desired state; an agent beside the target applies it and keeps it applied.")
    .version(pkg.version)
    .option("--state-dir <dir>", "agent state directory (default: $FERRY_STATE_DIR, else the nearest .ferry/ up from here, else ./.ferry)")
    .showHelpAfterError()
    .addHelpText(
      "after",
      `
Exit codes: 0 ok; 1 ran and found a failure (sync failed, not Ready, diff found changes); 2 could not run.

Start here: ferry quickstart`,
    );
  const stateDir = (): string => resolveStateDir(program.opts<{ stateDir?: string }>().stateDir);

  program
    .command("quickstart")
    .description("create an example repository with a small web service and run the agent on it, in the foreground")
    .argument("[dir]", "where to create it", "ferry-quickstart")
    .option("--port <port>", "port of the example service (default: 8080, or the next free one)", parsePort, 0)
    .option("--reset", "stop the example's services and remove its folder", false)
    .action((dir: string, o: { port: number; reset: boolean }) => run(() => runQuickstartCommand(dir, o)));

  program
    .command("agent")
    .description("pull the configuration repository and keep every application applied (until Ctrl-C, or once with --once)")
    .requiredOption("--repo <path-or-url>", "Git repository holding the Application documents")
    .option("--ref <branch-or-tag>", "branch or tag to follow", "main")
    .option("--path <dir>", "directory of the Application documents inside the repository", "ferry")
    .option("--root <dir>", "allowed root of the host target: files are written under it, services run in it", "live")
    .option("--interval <duration>", "how often to poll the repositories (e.g. 15s, 1m)", "15s")
    .option("--jitter <fraction>", "random share of the interval added or taken per poll", "0.1")
    .option("--listen <host:port>", "address of the control API (port 0: any free port)", "127.0.0.1:0")
    .option("--health-timeout <duration>", "how long a sync waits for objects to become healthy", "2m")
    .option("--once", "reconcile every application once and exit: 0 when all are Ready, 1 otherwise", false)
    .addOption(output())
    .action((o: Record<string, string | boolean>) =>
      run(() =>
        runAgentCommand({
          repo: String(o.repo),
          ref: String(o.ref),
          path: String(o.path),
          root: String(o.root),
          interval: String(o.interval),
          jitter: String(o.jitter),
          listen: String(o.listen),
          healthTimeout: String(o.healthTimeout),
          once: o.once === true,
          output: o.output === "json" ? "json" : "text",
          stateDir: stateDir(),
        }),
      ),
    );

  program
    .command("status")
    .description("show each application's readiness, sync state, revision and health (exit 1 when one is not Ready)")
    .argument("[app]", "one application, in detail")
    .addOption(output())
    .action((app: string | undefined, o: { output: "text" | "json" }) => run(() => runStatusCommand(stateDir(), app, o.output)));

  program
    .command("diff")
    .description("show what a sync would change now, per object and field (exit 1 when something would change)")
    .argument("[app]", "one application")
    .addOption(output())
    .action((app: string | undefined, o: { output: "text" | "json" }) => run(() => runDiffCommand(stateDir(), app, o.output)));

  program
    .command("sync")
    .description("fetch and apply one application now, whatever its policy; prints progress")
    .argument("<app>", "the application")
    .option("--prune", "delete objects that left Git even when the application's policy does not prune", false)
    .addOption(output())
    .action((app: string, o: { prune: boolean; output: "text" | "json" }) => run(() => runSyncCommand(stateDir(), app, o)));

  program
    .command("refresh")
    .description("ask the running agent to check every repository now instead of at the next poll")
    .action(() => run(() => runRefreshCommand(stateDir())));

  return program;
}

/** Runs a command and maps its result or error to the exit code: the one place that does. */
async function run(command: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await command();
  } catch (error) {
    if (error instanceof CliError) {
      console.error(`ferry: ${error.message}`);
      process.exitCode = error.exitCode;
    } else {
      console.error(`ferry: ${toFerryError(error).message}`);
      process.exitCode = EXIT.error;
    }
  }
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError("not a port number (0-65535)");
  return port;
}

await buildProgram().parseAsync(process.argv);
