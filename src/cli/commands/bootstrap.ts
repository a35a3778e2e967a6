import { bootstrap } from "../../bootstrap/bootstrap.js";
import { parseDuration } from "../../config/duration.js";
import { refProblem } from "../../source/remote-ref.js";
import { repositoryProblem } from "../../source/repository-url.js";
import { CliError, EXIT } from "../exit-codes.js";
import type { OutputFormat } from "../output.js";
import { formatData, isData } from "../output.js";
import { gitIdentity } from "./rollback.js";

/** The flags of `ferry bootstrap`, as the command line gives them. */
export interface BootstrapCommandOptions {
  readonly repo: string;
  readonly ref: string;
  readonly path: string;
  readonly image?: string;
  readonly kubeconfig?: string;
  readonly kubeContext?: string;
  readonly writeRoot: boolean;
  readonly timeout: string;
  readonly output?: OutputFormat;
}

/**
 * `ferry bootstrap`: installs the agent in a cluster and checks that Git
 * holds the root Application (printing what to add when it does not). Exit 0
 * when the agent is running, 1 when it did not become healthy in time, 2 when
 * it could not run (bad flag, unreachable cluster, refused request).
 */
export async function runBootstrapCommand(options: BootstrapCommandOptions): Promise<number> {
  const repoProblem = repositoryProblem(options.repo);
  if (repoProblem !== undefined) throw new CliError(`--repo: ${repoProblem}`);
  const ref = options.ref.replace(/^refs\/heads\//, "");
  const refError = refProblem(ref);
  if (refError !== undefined) throw new CliError(`--ref: ${refError}`);
  const path = options.path.replace(/^\.\/+|\/+$/g, "");
  if (path === "" || path.startsWith("/") || path.split("/").includes("..")) {
    throw new CliError(`--path: ${JSON.stringify(options.path)} must be a directory inside the repository, such as ferry`);
  }
  if (options.image !== undefined && !/^[a-z0-9][a-z0-9._/:@-]*$/i.test(options.image)) {
    throw new CliError(`--image: ${JSON.stringify(options.image)} is not an image reference such as ghcr.io/acme/ferry:0.1.0`);
  }
  const timeoutMs = parseDuration(options.timeout);
  if (timeoutMs === undefined || timeoutMs <= 0) throw new CliError(`--timeout: ${JSON.stringify(options.timeout)} is not a duration such as 90s or 5m`);
  const data = options.output !== undefined && isData(options.output) ? options.output : undefined;
  const result = await bootstrap({
    repo: options.repo,
    ref,
    path,
    ...(options.image !== undefined ? { image: options.image } : {}),
    ...(options.kubeconfig !== undefined ? { kubeconfig: options.kubeconfig } : {}),
    ...(options.kubeContext !== undefined ? { context: options.kubeContext } : {}),
    writeRoot: options.writeRoot,
    timeoutMs,
    author: await gitIdentity(),
    // With -o json|yaml, stdout is the result alone; what it waits for goes to stderr.
    log: (line) => (data ? console.error(line) : console.log(line)),
  });
  const { created, configured, unchanged, adopted } = result.applied;
  if (data) console.log(formatData(result, data));
  else console.log(`applied: ${created} created, ${configured} configured, ${unchanged} unchanged${adopted > 0 ? `, ${adopted} adopted` : ""}`);
  return result.healthy ? EXIT.ok : EXIT.failed;
}
