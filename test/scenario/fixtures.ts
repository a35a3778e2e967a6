/**
 * What scenario repositories hold: Application documents under `ferry/` and,
 * per application, a small node HTTP service written into the repository and
 * run by the host target, the way `ferry quickstart` does it.
 */

/** An Application document's knobs. */
export interface ApplicationOptions {
  readonly name: string;
  /** Directory of its manifests; default `apps/<name>`. */
  readonly path?: string;
  readonly automated?: boolean;
  readonly prune?: boolean;
  readonly selfHeal?: boolean;
  readonly interval?: string;
  readonly dependsOn?: readonly string[];
  readonly environment?: string;
}

/** One Application document. */
export function applicationYaml(options: ApplicationOptions): string {
  const policy = [
    options.automated === undefined ? "" : `    automated: ${options.automated}\n`,
    options.prune === undefined ? "" : `    prune: ${options.prune}\n`,
    options.selfHeal === undefined ? "" : `    selfHeal: ${options.selfHeal}\n`,
    options.interval === undefined ? "" : `    interval: ${options.interval}\n`,
  ].join("");
  return [
    "apiVersion: ferry.dev/v1",
    "kind: Application",
    "metadata:",
    `  name: ${options.name}`,
    "spec:",
    "  source:",
    `    path: ${options.path ?? `apps/${options.name}`}`,
    ...(policy ? ["  syncPolicy:", policy.trimEnd()] : []),
    ...(options.dependsOn ? ["  dependsOn:", ...options.dependsOn.map((d) => `    - ${d}`)] : []),
    ...(options.environment ? [`  environment: ${options.environment}`] : []),
    "",
  ].join("\n");
}

/** Several Application documents in one file. */
export function applicationsYaml(...applications: readonly ApplicationOptions[]): string {
  return applications.map(applicationYaml).join("---\n");
}

/**
 * The service every scenario runs. It answers `greeting=<from config.json>
 * pid=<pid> dependency=<up|down|none>`: the greeting is read on every request,
 * the dependency (DEPENDENCY_URL) is asked once, before listening, after
 * START_DELAY_MS.
 */
export const SERVER_SCRIPT = `import { readFileSync } from "node:fs";
import { createServer } from "node:http";

const port = Number(process.env.PORT);
let dependency = "none";
async function askDependency() {
  if (!process.env.DEPENDENCY_URL) return;
  try {
    const res = await fetch(process.env.DEPENDENCY_URL, { signal: AbortSignal.timeout(2000) });
    dependency = res.ok ? "up" : "status-" + res.status;
  } catch {
    dependency = "down";
  }
}
setTimeout(async () => {
  await askDependency();
  createServer((req, res) => {
    if (req.url === "/healthz") return void res.end("ok\\n");
    const config = JSON.parse(readFileSync(new URL("./config.json", import.meta.url), "utf8"));
    res.end("greeting=" + config.greeting + " pid=" + process.pid + " dependency=" + dependency + "\\n");
  }).listen(port, "127.0.0.1");
}, Number(process.env.START_DELAY_MS ?? 0));
process.on("SIGTERM", () => process.exit(0));
`;

/** The knobs of one service application. */
export interface ServiceAppOptions {
  /** Application name; also the Service name, the directory under the root and the one under `apps/`. */
  readonly name: string;
  readonly port: number;
  readonly greeting: string;
  readonly startDelayMs?: number;
  /** Failed health checks in the first seconds do not count (a slow start is not a failure). */
  readonly startPeriodSeconds?: number;
  readonly dependencyUrl?: string;
  /** The version the Service runs: its app.kubernetes.io/version label and its VERSION variable. */
  readonly version?: string;
  /** Overrides the Service's command (default `node`). */
  readonly command?: string;
  /** More File documents appended to files.yaml. */
  readonly extraFiles?: readonly { readonly name: string; readonly path: string; readonly content: string }[];
}

/** A Service plus the Files it runs from: apps/<name>/{service.yaml,files.yaml,server.mjs}. */
export function serviceApp(options: ServiceAppOptions): Record<string, string> {
  const { name, port } = options;
  const env = [
    `    PORT: "${port}"`,
    ...(options.startDelayMs !== undefined ? [`    START_DELAY_MS: "${options.startDelayMs}"`] : []),
    ...(options.dependencyUrl !== undefined ? [`    DEPENDENCY_URL: "${options.dependencyUrl}"`] : []),
    ...(options.version !== undefined ? [`    VERSION: "${options.version}"`] : []),
  ];
  const service = [
    "apiVersion: host.ferry.dev/v1",
    "kind: Service",
    "metadata:",
    `  name: ${name}`,
    ...(options.version !== undefined ? ["  labels:", `    app.kubernetes.io/version: "${options.version}"`] : []),
    "spec:",
    `  command: ${options.command ?? "node"}`,
    "  args: [server.mjs]",
    `  workingDir: ${name}`,
    "  env:",
    ...env,
    "  healthCheck:",
    "    http:",
    `      url: http://127.0.0.1:${port}/healthz`,
    "    intervalSeconds: 0.2",
    ...(options.startPeriodSeconds !== undefined ? [`    startPeriodSeconds: ${options.startPeriodSeconds}`] : []),
    "  restart:",
    "    backoffSeconds: 0.2",
    "  stop:",
    "    gracePeriodSeconds: 5",
    "",
  ].join("\n");
  return {
    [`apps/${name}/service.yaml`]: service,
    [`apps/${name}/files.yaml`]: filesYaml([
      { name: `${name}-config`, path: `${name}/config.json`, content: configJson(options.greeting) },
      { name: `${name}-server`, path: `${name}/server.mjs`, contentFrom: "server.mjs" },
      ...(options.extraFiles ?? []),
    ]),
    [`apps/${name}/server.mjs`]: SERVER_SCRIPT,
  };
}

/** The config.json a service reads its greeting from. */
export function configJson(greeting: string): string {
  return `{ "greeting": ${JSON.stringify(greeting)} }\n`;
}

/** File documents: inline content (a block scalar) or contentFrom. */
export function filesYaml(files: readonly ({ name: string; path: string } & ({ content: string } | { contentFrom: string }))[]): string {
  return files
    .map((f) =>
      [
        "apiVersion: host.ferry.dev/v1",
        "kind: File",
        "metadata:",
        `  name: ${f.name}`,
        "spec:",
        `  path: ${f.path}`,
        ...("content" in f
          ? ["  content: |", ...f.content.trimEnd().split("\n").map((l) => `    ${l}`)]
          : [`  contentFrom: ${f.contentFrom}`]),
        "",
      ].join("\n"),
    )
    .join("---\n");
}

/** What the service answered. */
export interface Answer {
  readonly greeting: string;
  readonly pid: number;
  readonly dependency: string;
}

/** Parses the service's answer; throws on anything else. */
export function parseAnswer(body: string): Answer {
  const match = /^greeting=(.*) pid=(\d+) dependency=(\S+)\n$/.exec(body);
  if (!match) throw new Error(`not an answer of the scenario service: ${JSON.stringify(body)}`);
  return { greeting: match[1] ?? "", pid: Number(match[2]), dependency: match[3] ?? "" };
}

/** The 1-based line of the first line of `text` that contains `needle`. */
export function lineOf(text: string, needle: string): number {
  const index = text.split("\n").findIndex((l) => l.includes(needle));
  if (index === -1) throw new Error(`${JSON.stringify(needle)} is not in the text`);
  return index + 1;
}

/** The pid in a Service's health message ("running (pid 123) ..."). */
export function pidInHealth(message: string): number | undefined {
  const match = /\(pid (\d+)\)/.exec(message);
  return match ? Number(match[1]) : undefined;
}

/** The key of a host object, as status inventories list them. */
export function hostKey(kind: "Service" | "File" | "Job", name: string): string {
  return `host.ferry.dev/${kind}//${name}`;
}
