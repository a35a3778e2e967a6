import { accessSync, constants, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Agent } from "../../agent/agent.js";
import { findCondition } from "../../core/conditions.js";
import { parseDuration } from "../../config/duration.js";
import type { SignaturePolicy } from "../../source/signatures.js";
import { CliError, EXIT } from "../exit-codes.js";
import type { AgeIdentity } from "../../secrets/age.js";
import { parseIdentityFile } from "../../secrets/age.js";
import { eventPrinter, formatConfig, formatStatusTable } from "../format.js";
import type { OutputFormat, DataFormat } from "../output.js";
import { isData, formatStreamItem } from "../output.js";
import { ProgressLine, startupProgress } from "../progress.js";

/** Options of `ferry agent`. */
export interface AgentCommandOptions {
  readonly repo: string;
  readonly ref: string;
  readonly path: string;
  readonly stateDir: string;
  readonly root: string;
  readonly interval: string;
  readonly jitter: string;
  readonly listen: string;
  readonly once: boolean;
  readonly healthTimeout: string;
  readonly output: OutputFormat;
  /** History URL; default $FERRY_HISTORY_URL, else SQLite in the state directory. */
  readonly history?: string;
  /** Retention of the history as a duration; default keep everything. */
  readonly historyRetention?: string;
  /** Name of this agent in a shared history. */
  readonly name?: string;
  /** File holding the webhook secret; default $FERRY_WEBHOOK_SECRET. */
  readonly webhookSecretFile?: string;
  /** age identity file that decrypts secrets in Git; default $FERRY_AGE_KEY_FILE. */
  readonly ageKeyFile?: string;
  /** PEM certificate and private key: the control API speaks HTTPS only. */
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  /** Refuse commits whose signature does not verify against `allowedSigners` or `gpgKeyring`. */
  readonly verifySignatures?: boolean;
  /** SSH allowed-signers file (git's gpg.ssh.allowedSignersFile format). */
  readonly allowedSigners?: string;
  /** File of exported OpenPGP public keys. */
  readonly gpgKeyring?: string;
  /** The policy saved by an earlier agent (offline commands verify as it did). */
  readonly signatures?: SignaturePolicy;
  /** Kubeconfig of the Kubernetes clusters. */
  readonly kubeconfig?: string;
  /** Context of the default Kubernetes cluster. */
  readonly kubeContext?: string;
  readonly kubeTimeout?: string;
  /** SSH private key file promotion commits are signed with. */
  readonly signCommits?: string;
}

/** Builds an Agent from command-line options, checking them first. */
export function agentFromOptions(options: Omit<AgentCommandOptions, "once" | "output">, listen: boolean): Agent {
  const pollIntervalMs = parseDuration(options.interval);
  if (pollIntervalMs === undefined || pollIntervalMs < 100) throw new CliError(`--interval: not a duration of at least 100ms: ${JSON.stringify(options.interval)} (use e.g. 500ms, 15s, 1m)`);
  const healthTimeoutMs = parseDuration(options.healthTimeout);
  if (healthTimeoutMs === undefined) throw new CliError(`--health-timeout: not a duration: ${JSON.stringify(options.healthTimeout)}`);
  const jitter = Number(options.jitter);
  if (!Number.isFinite(jitter) || jitter < 0 || jitter > 1) throw new CliError(`--jitter: a fraction from 0 to 1, got ${JSON.stringify(options.jitter)}`);
  let historyRetentionMs: number | undefined;
  if (options.historyRetention !== undefined) {
    historyRetentionMs = parseDuration(options.historyRetention);
    if (historyRetentionMs === undefined || historyRetentionMs < 60_000) {
      throw new CliError(`--history-retention: not a duration of at least 1m: ${JSON.stringify(options.historyRetention)} (use e.g. 720h for 30 days)`);
    }
  }
  const history = options.history ?? process.env.FERRY_HISTORY_URL;
  const webhookSecret = options.webhookSecretFile !== undefined ? readSecret(options.webhookSecretFile) : process.env.FERRY_WEBHOOK_SECRET;
  const signatures = signaturePolicy(options);
  const commitSigning = options.signCommits !== undefined ? sshSigning(options.signCommits) : undefined;
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) throw new CliError("--tls-cert and --tls-key go together: give both, or neither");
  const tls = options.tlsCert !== undefined && options.tlsKey !== undefined ? { certFile: readable("--tls-cert", options.tlsCert), keyFile: readable("--tls-key", options.tlsKey) } : undefined;
  const ageKeyFile = options.ageKeyFile ?? (process.env.FERRY_AGE_KEY_FILE || undefined);
  const age = ageKeyFile !== undefined ? readAgeKeys(ageKeyFile) : undefined;
  const match = /^(.+):(\d+)$/.exec(options.listen);
  if (!match) throw new CliError(`--listen: expected host:port, got ${JSON.stringify(options.listen)}`);
  return new Agent({
    ...(options.kubeconfig !== undefined ? { kubeconfig: options.kubeconfig } : {}),
    ...(options.kubeContext !== undefined ? { kubeContext: options.kubeContext } : {}),
    ...(options.kubeTimeout !== undefined ? { kubeTimeout: options.kubeTimeout } : {}),
    repo: options.repo,
    ref: options.ref,
    path: options.path,
    stateDir: options.stateDir,
    root: options.root,
    pollIntervalMs,
    jitter,
    healthTimeoutMs,
    listen: listen ? { host: match[1] ?? "127.0.0.1", port: Number(match[2]) } : false,
    ...(history ? { history } : {}),
    ...(historyRetentionMs !== undefined ? { historyRetentionMs } : {}),
    ...(options.name ? { name: options.name } : {}),
    ...(webhookSecret ? { webhookSecret } : {}),
    ...(signatures ? { signatures } : {}),
    ...(commitSigning && options.signCommits !== undefined ? { commitSigning, signCommitsFile: resolve(options.signCommits) } : {}),
    ...(tls ? { tls } : {}),
    ...(age ? { ageIdentities: age.identities, ageKeyFile: age.file } : {}),
  });
}

/** The identities of `--age-key-file`; a missing or malformed file is an error naming it (and the line), never its content. */
function readAgeKeys(file: string): { file: string; identities: AgeIdentity[] } {
  const path = readable("--age-key-file", file);
  try {
    return { file: path, identities: parseIdentityFile(readFileSync(path, "utf8"), path) };
  } catch (error) {
    throw new CliError(`--age-key-file: ${(error as Error).message}`);
  }
}

/** The absolute path of a file a flag names, checked readable. */
function readable(flag: string, file: string): string {
  const path = resolve(file);
  try {
    accessSync(path, constants.R_OK);
  } catch (error) {
    throw new CliError(`${flag}: cannot read ${path}: ${(error as Error).message}`);
  }
  return path;
}

/** How git signs with an SSH key file (`git commit -S` with gpg.format=ssh); the file must be readable. */
function sshSigning(file: string): { config: string[] } {
  // Absolute: git runs in a working clone, where a relative path would name nothing.
  return { config: ["-c", "gpg.format=ssh", "-c", `user.signingkey=${resolve(readable("--sign-commits", file))}`] };
}

/** The signature policy the flags ask for (files made absolute and checked readable), or the saved one. */
function signaturePolicy(options: Pick<AgentCommandOptions, "verifySignatures" | "allowedSigners" | "gpgKeyring" | "signatures">): SignaturePolicy | undefined {
  if (!options.verifySignatures) {
    if (options.allowedSigners !== undefined || options.gpgKeyring !== undefined) {
      throw new CliError("--allowed-signers and --gpg-keyring take effect with --verify-signatures; add it, or drop them");
    }
    return options.signatures;
  }
  if (options.allowedSigners === undefined && options.gpgKeyring === undefined) {
    throw new CliError("--verify-signatures needs the allowed keys: --allowed-signers <file> (SSH) and/or --gpg-keyring <file> (GPG)");
  }
  return {
    ...(options.allowedSigners !== undefined ? { allowedSignersFile: readable("--allowed-signers", options.allowedSigners) } : {}),
    ...(options.gpgKeyring !== undefined ? { gpgKeyringFile: readable("--gpg-keyring", options.gpgKeyring) } : {}),
  };
}

/** The secret in a file, without its trailing newline; at least 16 characters. */
function readSecret(file: string): string {
  let secret: string;
  try {
    secret = readFileSync(file, "utf8").replace(/\r?\n$/, "");
  } catch (error) {
    throw new CliError(`--webhook-secret-file: cannot read ${file}: ${(error as Error).message}`);
  }
  if (secret.length < 16) throw new CliError(`--webhook-secret-file: the secret in ${file} is shorter than 16 characters`);
  return secret;
}

/**
 * `ferry agent`: pulls the configuration and keeps every application applied
 * until interrupted. With `once`, reconciles every application one time and
 * exits non-zero when any is not Ready.
 */
export async function runAgentCommand(options: AgentCommandOptions): Promise<number> {
  const agent = agentFromOptions(options, !options.once);
  const data = isData(options.output) ? options.output : undefined;
  const json = data !== undefined;
  // On a terminal: what the first start is doing (a first clone, many first syncs); nothing when piped.
  const progress = new ProgressLine(json ? { write: () => true } : process.stderr);
  const startup = startupProgress(progress, options.repo);
  const printer = eventPrinter((line) => progress.print(() => console.log(line)));
  agent.engine.subscribe(
    data
      ? (event) => console.log(formatStreamItem(event, data))
      : (event) => {
          printer(event);
          startup.onEvent(event);
        },
  );
  if (options.once) return runOnce(agent, data, progress);
  await agent.start();
  void agent.engine.whenIdle().then(() => progress.done());
  if (!json) {
    progress.print(() => {
      console.log(`ferry agent: watching ${options.repo} (${options.ref}) ${options.path}; state in ${agent.options.stateDir}; press Ctrl-C to stop`);
      if (agent.dashboardUrl) console.log(dashboardLine(agent.dashboardUrl, agent.options.stateDir));
    });
  }
  await waitForSignal();
  if (!json) console.log("stopping the agent; services keep running and are adopted by the next agent");
  await agent.stop();
  return EXIT.ok;
}

/** What `ferry agent` and the quickstart say about the dashboard. */
export function dashboardLine(url: string, stateDir: string): string {
  return `dashboard (read-only): ${url}\n  actions (sync, refresh, rollback) need the admin token: "token" in ${stateDir}/agent.json`;
}

async function runOnce(agent: Agent, data: DataFormat | undefined, progress: ProgressLine): Promise<number> {
  await agent.start({ poll: false });
  try {
    await agent.engine.whenIdle();
    progress.done();
    const statuses = agent.statuses();
    const config = agent.config();
    if (data) console.log(formatStreamItem({ config, applications: statuses }, data));
    else {
      const configText = formatConfig(config);
      if (configText) console.log(configText);
      console.log(formatStatusTable(statuses));
    }
    const configFailed = config.problems.some((p) => p.severity === "error");
    const notReady = statuses.filter((s) => findCondition(s.conditions, "Ready")?.status !== "True");
    return configFailed || notReady.length > 0 ? EXIT.failed : EXIT.ok;
  } finally {
    await agent.stop();
  }
}

/** Resolves on SIGINT or SIGTERM. */
export function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off("SIGINT", done);
      process.off("SIGTERM", done);
      resolve();
    };
    process.on("SIGINT", done);
    process.on("SIGTERM", done);
  });
}
