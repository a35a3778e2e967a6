import { Argument, Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { resolveStateDir } from "../agent/state-dir.js";
import { toFerryError } from "../core/errors.js";
import { FERRY_VERSION } from "../core/version.js";
import type { ClusterFlags } from "./commands/offline.js";
import type { Shell } from "./completion.js";
import { completionScript, SHELLS } from "./completion.js";
import { CliError, EXIT } from "./exit-codes.js";
import type { OutputFormat } from "./output.js";
import { outputOption } from "./output.js";

const output = outputOption;

/**
 * Commands that, when no agent runs, start one in this process on the last
 * agent's settings, so they read (and may write) its clusters: they take
 * --kubeconfig and --context, as kubectl does.
 */
const LOCAL_AGENT_COMMANDS = new Set(["diff", "sync", "rollback", "release", "suspend", "resume"]);

/**
 * Runs the command line and returns its exit code: what the command returned,
 * or 2 (EXIT.error) when the command line itself was wrong (unknown command
 * or option, missing argument, a value not among the choices).
 */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    // Commander printed its message already; --help and --version end with 0.
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.error;
    throw error;
  }
  return typeof process.exitCode === "number" ? process.exitCode : EXIT.ok;
}

/** Builds the `ferry` command line. Each action sets the exit code through `run`. */
export function buildProgram(): Command {
  const program = new Command("ferry")
    .description("GitOps continuous delivery: Git holds the desired state; an agent beside the target applies it and keeps it applied.")
    .version(FERRY_VERSION)
    .option("--state-dir <dir>", "agent state directory (default: $FERRY_STATE_DIR, else the nearest .ferry/ up from here, else ./.ferry)")
    .showHelpAfterError()
    .addHelpText(
      "after",
      `
Exit codes: 0 ok; 1 ran and found a failure (sync failed, not Ready, diff found changes, validate found errors); 2 could not run (bad usage, no agent reachable, unreadable configuration).

Start here: ferry quickstart`,
    );
  // Program options are read before the command only, so a command may have
  // options of the same name (history --version); --state-dir is offered on
  // every command as well, and the command's own wins.
  program.enablePositionalOptions();
  // Usage errors end the parse with a CommanderError (mapped to exit 2 by main)
  // instead of commander's process.exit(1); commands made below inherit this.
  program.exitOverride();
  let commandStateDir: string | undefined;
  const stateDir = (): string => resolveStateDir(commandStateDir ?? program.opts<{ stateDir?: string }>().stateDir);
  program.hook("preAction", async (_program, command) => {
    const o = command.opts<{ stateDir?: string; kubeconfig?: string; context?: string; kubeContext?: string }>();
    commandStateDir = o.stateDir;
    if (LOCAL_AGENT_COMMANDS.has(command.name())) await (await import("./commands/offline.js")).warnIfClusterFlagsUnused(stateDir(), clusterOf(o));
  });

  program
    .command("quickstart")
    .description("create an example repository with a small web service and run the agent on it, in the foreground")
    .argument("[dir]", "where to create it (default: ferry-quickstart)")
    .option("--port <port>", "port of the example service (default: 8080, or the next free one)", parsePort, 0)
    .option("--reset", "stop the example's services and remove its folder: [dir], else ./ferry-quickstart, else the quickstart this folder is in; refused for a folder that is not one", false)
    .action((dir: string | undefined, o: { port: number; reset: boolean }) => run(async () => (await import("./commands/quickstart.js")).runQuickstartCommand(dir, o)));

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
    .option("--history <url>", "where the history goes: sqlite:<path> or postgres://user@host:port/db (default: $FERRY_HISTORY_URL, else sqlite:<state-dir>/history.db)")
    .option("--history-retention <duration>", "prune history events older than this (e.g. 2160h); default: keep everything")
    .option("--name <name>", "this agent's name in a shared history (default: the host name)")
    .option("--webhook-secret-file <file>", "enable the webhook receivers (/hooks/github, gitlab, gitea, generic) with the secret in this file (default: $FERRY_WEBHOOK_SECRET)")
    .option("--age-key-file <file>", "age identities (AGE-SECRET-KEY-1..., as age-keygen writes them) that decrypt SOPS files and age values in Git, in memory only (default: $FERRY_AGE_KEY_FILE)")
    .option("--tls-cert <file>", "serve the control API, dashboard and webhooks over HTTPS only, with this PEM certificate (with --tls-key)")
    .option("--tls-key <file>", "the PEM private key of --tls-cert")
    .option("--verify-signatures", "use only commits (and annotated tags, where a ref is one) signed by an allowed key, in every repository the agent reads; others are refused and reported", false)
    .option("--allowed-signers <file>", "with --verify-signatures: the allowed SSH keys, in git's gpg.ssh.allowedSignersFile format")
    .option("--gpg-keyring <file>", "with --verify-signatures: the allowed GPG keys (exported public keys, binary or armored)")
    .option("--kubeconfig <file>", "kubeconfig of the Kubernetes clusters; each context is target kubernetes@<context> (default: $KUBECONFIG, ~/.kube/config, or the cluster the agent runs in)")
    .option("--context <name>", "context of the cluster that target kubernetes (an Application without spec.cluster) applies to (default: the current context)")
    .addOption(new Option("--kube-context <name>", "the former name of --context").hideHelp())
    .option("--kube-timeout <list>", "how long one request to a cluster may take before it fails and is retried: <duration> for every context, <context>=<duration> for one, comma-separated (e.g. 20s,far-away=2m; default 30s)")
    .option("--sign-commits <ssh-key-file>", "sign the commits the agent writes (promotions, rollbacks) with this SSH private key")
    .addOption(output())
    .action((o: Record<string, string | boolean>) =>
      run(async () =>
        (await import("./commands/agent.js")).runAgentCommand({
          repo: String(o.repo),
          ref: String(o.ref),
          path: String(o.path),
          root: String(o.root),
          interval: String(o.interval),
          jitter: String(o.jitter),
          listen: String(o.listen),
          healthTimeout: String(o.healthTimeout),
          once: o.once === true,
          output: o.output as OutputFormat,
          stateDir: stateDir(),
          ...stringOptions(o, ["history", "historyRetention", "name", "webhookSecretFile", "ageKeyFile", "tlsCert", "tlsKey", "allowedSigners", "gpgKeyring", "kubeconfig", "kubeContext", "kubeTimeout", "signCommits"]),
          ...stringOptions({ kubeContext: o.context ?? o.kubeContext }, ["kubeContext"]),
          verifySignatures: o.verifySignatures === true,
        }),
      ),
    );

  program
    .command("bootstrap")
    .description("install the agent in a Kubernetes cluster, following a repository; the root Application in Git then keeps Ferry itself applied")
    .requiredOption("--repo <url>", "Git repository the agent follows (a URL the cluster can reach)")
    .option("--ref <branch-or-tag>", "branch or tag to follow", "main")
    .option("--path <dir>", "directory of the Application documents inside the repository", "ferry")
    .option("--image <image>", "the agent's container image (default: the one in deploy/kubernetes/deployment.yaml)")
    .option("--kubeconfig <file>", "kubeconfig of the cluster (default: $KUBECONFIG, ~/.kube/config)")
    .option("--context <name>", "context of the cluster to install into (default: the current context)")
    .addOption(new Option("--kube-context <name>", "the former name of --context").hideHelp())
    .option("--write-root", "when the repository has no Application managing Ferry: commit and push <path>/ferry.yaml and deploy/ (Ferry's manifests)", false)
    .option("--timeout <duration>", "how long to wait for the Namespace to be Active and the Deployment Healthy; no single request to the API server waits longer (at most 30s)", "5m")
    .addOption(output())
    .addHelpText(
      "after",
      `
Applies Namespace, ServiceAccount, RBAC, PersistentVolumeClaim, Deployment and Service with server-side apply; unchanged objects are not written, so running it again changes nothing.
Exit 0 when the agent runs; 1 when it did not become healthy in time; 2 when it could not run (bad flag, unreachable cluster, refused request).`,
    )
    .action((o: Record<string, string | boolean>) =>
      run(async () =>
        (await import("./commands/bootstrap.js")).runBootstrapCommand({
          repo: String(o.repo),
          ref: String(o.ref),
          path: String(o.path),
          writeRoot: o.writeRoot === true,
          timeout: String(o.timeout),
          output: o.output as OutputFormat,
          ...stringOptions(o, ["image", "kubeconfig", "kubeContext"]),
          ...stringOptions({ kubeContext: o.context ?? o.kubeContext }, ["kubeContext"]),
        }),
      ),
    );

  program
    .command("validate")
    .description("check a checkout before merge, offline: schemas, references, duplicate objects and policies (exit 1 on errors)")
    .argument("[dir]", "the repository checkout", ".")
    .option("--path <dir>", "directory of the Application (Policy, HealthRule) documents inside it", "ferry")
    .option("--root <dir>", "the host target's allowed root, to judge absolute paths (default: only relative paths are checked)")
    .addOption(new Option("--format <format>", "text, or github for GitHub Actions annotations").choices(["text", "github"]).default("text"))
    .addOption(output())
    .action((dir: string, o: { path: string; root?: string; format: "text" | "github"; output: OutputFormat }) =>
      run(async () => (await import("./commands/validate.js")).runValidateCommand(dir, { path: o.path, output: o.output, format: o.format, ...(o.root !== undefined ? { root: o.root } : {}) })),
    );

  program
    .command("health")
    .description("the health of saved live Kubernetes objects (kubectl get -o yaml) and the rule that decided it, to try a HealthRule before committing it (exit 1 when one is not Healthy)")
    .argument("<file>", "YAML of one or more live objects, or a List")
    .option("--path <dir>", "directory of HealthRule documents to use with the built-in rules (default: ferry, when it exists)")
    .addOption(output())
    .action((file: string, o: { path?: string; output: OutputFormat }) =>
      run(async () => (await import("./commands/health.js")).runHealthCommand(file, { output: o.output, ...(o.path !== undefined ? { path: o.path } : {}) })),
    );

  program
    .command("status")
    .description("show each application's readiness, sync state, revision and health (exit 1 when one is not Ready)")
    .argument("[app]", "one application, in detail")
    .addOption(output({ wide: true }))
    .action((app: string | undefined, o: { output: OutputFormat }) => run(async () => (await import("./commands/status.js")).runStatusCommand(stateDir(), app, o.output)));

  program
    .command("diff")
    .description("show what a sync would change now, or what merging a revision would change, per object and field (exit 1 when something would change)")
    .argument("[app]", "one application")
    .option(
      "--revision <commit-or-branch>",
      "compare a commit (id, or a prefix of 7+ hex digits), branch or tag instead of what is deployed: what merging it would create, change and prune; nothing is applied",
    )
    .addOption(output())
    .addHelpText(
      "after",
      `
With --revision: exit 0 when nothing would change; 1 when something would, or the revision does not render or validate (its problems are printed with file:line); 2 when the revision or application is unknown or a source could not be fetched.
Applications declared only in the configuration at that revision are shown as new.`,
    )
    .action((app: string | undefined, o: { output: OutputFormat; revision?: string }) =>
      run(async () => (o.revision !== undefined ? (await import("./commands/diff-revision.js")).runDiffRevisionCommand(stateDir(), app, o.revision, o.output, clusterOf(o)) : (await import("./commands/diff.js")).runDiffCommand(stateDir(), app, o.output, clusterOf(o)))),
    );

  program
    .command("sync")
    .description("fetch and apply one application (or --all) now, whatever its policy and whatever the new revision changed; prints progress")
    .argument("[app]", "the application")
    .option("--all", "every application that is not suspended: a full pass, each one rendered and applied", false)
    .option("--prune", "delete objects that left Git even when the application's policy does not prune", false)
    .option("--allow-mass-delete", "delete even when that removes more than half (or all) of the application's objects", false)
    .addOption(output())
    .action((app: string | undefined, o: { all: boolean; prune: boolean; allowMassDelete: boolean; output: OutputFormat }, command: Command) => {
      // A usage error, as commander reports its own (exit 2, with the help).
      if (o.all === (app !== undefined)) command.error("error: name one application, or --all for every one");
      return run(async () => {
        const { runSyncAllCommand, runSyncCommand } = await import("./commands/sync.js");
        return app !== undefined ? runSyncCommand(stateDir(), app, { ...o, cluster: clusterOf(o) }) : runSyncAllCommand(stateDir(), { ...o, cluster: clusterOf(o) });
      });
    });

  program
    .command("history")
    .description("what ran where and when: every sync, drift, rollback, hold and promotion, newest first")
    .argument("[app]", "one application")
    .option("--env <environment>", "one environment")
    .option("--version <version>", "where this version ran, from when to when, and who put it there")
    .option("--at <time>", "what was running at this time (2026-11-17, 2026-11-17T14:00:00Z, 36h, 7d)")
    .option("--outcome <outcome>", "only syncs that Succeeded or Failed")
    .option("--type <types>", "only these event types, comma-separated (SyncFinished,DriftDetected,Rollback,Promotion,PromotionGate,Approval,...)")
    .option("--revision <hex>", "only entries of this revision (a prefix is enough)")
    .option("--since <time>", "entries at or after this time")
    .option("--until <time>", "entries before this time")
    .option("--limit <n>", "entries per page", "50")
    .option("--before <id>", "the page after this entry id (printed as 'more:')")
    .option("--history <url>", "read this history instead of the agent's (sqlite:<path> or postgres://...)")
    .addOption(output({ wide: true }))
    .action((app: string | undefined, o: Record<string, string | undefined>) =>
      run(async () =>
        (await import("./commands/history.js")).runHistoryCommand(stateDir(), app, {
          output: o.output as OutputFormat,
          ...defined({
            environment: o.env,
            version: o.version,
            at: o.at,
            outcome: o.outcome,
            type: o.type,
            revision: o.revision,
            since: o.since,
            until: o.until,
            limit: o.limit,
            before: o.before,
            history: o.history,
          }),
        }),
      ),
    );

  program
    .command("rollback")
    .description("commit the application's directory as it was at an earlier deployment, and let the agent sync it; the commit's author is your git identity (GIT_AUTHOR_NAME/GIT_AUTHOR_EMAIL, then git config)")
    .argument("<app>", "the application")
    .option("--to <revision-or-entry>", "a revision that ran before (a prefix is enough) or a history entry id (#123); default: the deployment before the current one")
    .option("--reason <text>", "why, for the commit message and the history")
    .addOption(output())
    .action((app: string, o: { to?: string; reason?: string; output: OutputFormat }) => run(async () => (await import("./commands/rollback.js")).runRollbackCommand(stateDir(), app, { ...o, cluster: clusterOf(o) })));

  program
    .command("release")
    .description("release the hold a rollback put on an application, so automatic promotion may move it again")
    .argument("<app>", "the application")
    .addOption(output())
    .action((app: string, o: { output: OutputFormat }) => run(async () => (await import("./commands/rollback.js")).runReleaseCommand(stateDir(), app, { ...o, cluster: clusterOf(o) })));

  program
    .command("dashboard")
    .description("print the link to the running agent's dashboard, with the read token (or --admin the admin token) in its fragment")
    .option("--admin", "link with the admin token: the page can sync, roll back, release and approve")
    .addOption(output())
    .action((o: { admin?: boolean; output: OutputFormat }) => run(async () => (await import("./commands/dashboard.js")).runDashboardCommand(stateDir(), o)));

  program
    .command("promote")
    .description("promote a version into an environment of a pipeline: into the first with --version, into a later one the version that passed the one before it")
    .argument("<pipeline-or-app>", "the pipeline, or an application it moves")
    .requiredOption("--to <env>", "the environment to promote into")
    .option("--version <version>", "the version to write into the first environment (default: the watcher's newest); later ones take the version in flight")
    .option("--set <field=value>", "with --version: another marked value of that version, e.g. --set url=/srv/web-2.0.0.tar.gz --set digest=sha256:... (repeatable)", (v: string, all: string[]) => [...all, v], [] as string[])
    .addOption(output())
    .action((target: string, o: { to: string; version?: string; set: string[]; output: OutputFormat }) => run(async () => (await import("./commands/promote.js")).runPromoteCommand(stateDir(), target, o)));

  program
    .command("approve")
    .description("approve the version waiting for approval to enter an environment; it is recorded with your git identity (GIT_AUTHOR_NAME/GIT_AUTHOR_EMAIL, then git config)")
    .argument("<pipeline>", "the pipeline")
    .requiredOption("--env <env>", "the environment waiting for approval")
    .addOption(output())
    .action((pipeline: string, o: { env: string; output: OutputFormat }) => run(async () => (await import("./commands/promote.js")).runApproveCommand(stateDir(), pipeline, o)));

  const pipeline = program.command("pipeline").description("pipelines: environments, versions and gates");
  pipeline
    .command("status")
    .description("each environment's version, where the promotion stands, its gates and what waits on what (exit 1 when a promotion stopped at a failed gate)")
    .argument("[name]", "one pipeline")
    .addOption(output())
    .action((name: string | undefined, o: { output: OutputFormat }) => run(async () => (await import("./commands/promote.js")).runPipelineStatusCommand(stateDir(), name, o)));
  for (const sub of pipeline.commands) sub.option("--state-dir <dir>", "agent state directory (as the global option)");

  program
    .command("suspend")
    .description("stop syncing and self-healing an application until resumed (drift is still reported); kept across agent restarts")
    .argument("<app>", "the application")
    .option("--reason <text>", "why, for the status and the history")
    .addOption(output())
    .action((app: string, o: { reason?: string; output: OutputFormat }) => run(async () => (await import("./commands/suspend.js")).runSuspendCommand(stateDir(), app, { ...o, cluster: clusterOf(o) })));

  program
    .command("resume")
    .description("lift a suspension made with ferry suspend: the agent applies what it held back")
    .argument("<app>", "the application")
    .addOption(output())
    .action((app: string, o: { output: OutputFormat }) => run(async () => (await import("./commands/suspend.js")).runResumeCommand(stateDir(), app, { ...o, cluster: clusterOf(o) })));

  program
    .command("refresh")
    .description("ask the running agent to check every repository now instead of at the next poll")
    .option("--allow-mass-delete", "let the configuration remove every application at once (an emptied Application path), pruning their objects", false)
    .action((o: { allowMassDelete?: boolean }) => run(async () => (await import("./commands/sync.js")).runRefreshCommand(stateDir(), { allowMassDelete: o.allowMassDelete === true })));

  program
    .command("version")
    .description("print the version of this ferry and of the agent running on the state directory, when one is reachable")
    .addOption(output())
    .action((o: { output: OutputFormat }) => run(async () => (await import("./commands/version.js")).runVersionCommand(stateDir(), o)));

  program
    .command("completion")
    .description("print the shell completion script of ferry for bash, zsh or fish")
    .addArgument(new Argument("<shell>", "the shell").choices(SHELLS))
    .addHelpText(
      "after",
      `
bash: source <(ferry completion bash), or ferry completion bash > ~/.local/share/bash-completion/completions/ferry
zsh:  source <(ferry completion zsh) in ~/.zshrc, after compinit
fish: ferry completion fish > ~/.config/fish/completions/ferry.fish`,
    )
    .action((shell: Shell) =>
      run(async () => {
        process.stdout.write(completionScript(program, shell));
        return Promise.resolve(EXIT.ok);
      }),
    );

  for (const command of program.commands) {
    if (!LOCAL_AGENT_COMMANDS.has(command.name())) continue;
    command.option("--kubeconfig <file>", "without a running agent: the kubeconfig of the clusters (default: the one the last agent used)");
    command.option("--context <name>", "without a running agent: the context target kubernetes applies to (default: the one the last agent used)");
  }
  for (const command of program.commands) command.option("--state-dir <dir>", "agent state directory (as the global option)");
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

/** The options among `keys` that were given a string (`--kube-context prod` -> `{ kubeContext: "prod" }`). */
function stringOptions<K extends string>(options: Readonly<Record<string, unknown>>, keys: readonly K[]): { [P in K]?: string } {
  return Object.fromEntries(keys.flatMap((key) => (typeof options[key] === "string" ? [[key, options[key]]] : []))) as { [P in K]?: string };
}

/** The cluster flags of a command (--kubeconfig, --context or its former name --kube-context). */
function clusterOf(options: object): ClusterFlags {
  const { kubeconfig, context, kubeContext } = stringOptions(options as Readonly<Record<string, unknown>>, ["kubeconfig", "context", "kubeContext"]);
  const chosen = context ?? kubeContext;
  return { ...(kubeconfig !== undefined ? { kubeconfig } : {}), ...(chosen !== undefined ? { kubeContext: chosen } : {}) };
}

/** The entries whose value is set. */
function defined<T extends Record<string, string | undefined>>(values: T): { [K in keyof T]?: string } {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: string };
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError("not a port number (0-65535)");
  return port;
}

