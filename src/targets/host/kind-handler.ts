import { mkdir, stat } from "node:fs/promises";
import { isJsonObject } from "../../core/json.js";
import { stalled } from "../../core/errors.js";
import type { Health } from "../../core/health.js";
import type { RenderedObject } from "../../core/objects.js";
import type { ApplyOutcome, Comparable, ObjectContext } from "../target.js";
import type { ArtifactSpec } from "./host-schemas.js";
import { hostIdOf, normalizeHostNamespace } from "./host-ids.js";
import { resolveUnderRoot, staysInsideRealRoot } from "./host-paths.js";
import { fieldError } from "./host-validate.js";
import { findExecutable } from "./processes.js";
import type { RecordSealer } from "./record-seal.js";
import type { StateStore } from "./state-store.js";
import type { ArtifactCache } from "./artifact-cache.js";

/** What every kind's handler shares: the root, the records, and the way to tell watchers. */
export interface HostEnvironment {
  /** Absolute allowed root. */
  readonly root: string;
  readonly store: StateStore;
  /** This state directory's id, in the owner mark of the processes it starts. */
  readonly stateId: string;
  /** Seals secret values before they go into a record (usable once the target is ready). */
  readonly sealer: RecordSealer;
  /** Unpacked artifacts of services and jobs. */
  readonly artifacts: ArtifactCache;
  /** Removes unpacked artifacts no record uses any more (keeping the last few); never fails. */
  readonly collectArtifacts: () => Promise<void>;
  /** Tells watchers about a change of one object (by id) of the handler's kind. */
  readonly notify: (id: string, owner: string | undefined, message: string) => void;
}

/** One kind's side of the Target interface, addressed by object id (`web`, or `dev/web` in namespace dev; see host-ids.ts). */
export interface KindHandler {
  /** Loads the records (rewriting any that still hold secret values) and adopts what still runs. Called once, before anything else. */
  start(): Promise<void>;
  describe(object: RenderedObject, context: ObjectContext): Promise<Comparable>;
  apply(object: RenderedObject, context: ObjectContext): Promise<ApplyOutcome>;
  /** The live state; `correcting` says the target itself is putting it back (a service waiting out its restart backoff). */
  read(name: string): Promise<{ readonly state: Comparable; readonly owner: string; readonly correcting?: string } | undefined>;
  health(name: string): Promise<Health>;
  /** Names of the recorded objects of the kind that the application owns. */
  owned(application: string): Promise<string[]>;
  delete(name: string, application: string): Promise<void>;
  /** Stops every process of the kind (records stay). */
  stopAll(): Promise<void>;
  /** Ends timers and watchers; processes keep running. */
  close(): void;
}

/**
 * The working directory of a Service or Job: `workingDir` under the root when
 * given, else the artifact's directory when there is an artifact, else the
 * namespace's directory (`<root>/<namespace>`, the root itself in the default
 * namespace), made when it is first needed.
 */
export function resolveWorkingDir(
  env: HostEnvironment,
  spec: { readonly workingDir?: string | undefined; readonly artifact?: { readonly digest: string } | undefined },
  object: RenderedObject,
): {
  workingDir: string;
  artifactDir?: string;
} {
  const artifactDir = spec.artifact ? env.artifacts.pathOf(spec.artifact.digest) : undefined;
  if (spec.workingDir === undefined && artifactDir !== undefined) return { workingDir: artifactDir, artifactDir };
  // validate() refused working directories outside the root, and namespaces are DNS labels, so this resolves.
  const workingDir = resolveUnderRoot(env.root, spec.workingDir ?? namespaceDir(object)) ?? env.root;
  return artifactDir === undefined ? { workingDir } : { workingDir, artifactDir };
}

/** The default working directory of a namespace, relative to the root: `.` for the default namespace. */
function namespaceDir(object: RenderedObject): string {
  return normalizeHostNamespace(object.manifest.metadata.namespace) ?? ".";
}

/**
 * Unpacks the artifact a Service or Job runs (when it has one) and checks its
 * working directory and command, before anything running is touched.
 */
export async function prepareToRun(
  env: HostEnvironment,
  object: RenderedObject,
  desired: { readonly command: string; readonly workingDir: string; readonly env: Readonly<Record<string, string>>; readonly artifact?: ArtifactSpec },
  processEnvironment: Readonly<Record<string, string>>,
): Promise<void> {
  const artifactDir = desired.artifact ? await env.artifacts.prepare(desired.artifact, object) : undefined;
  const spec = object.manifest["spec"];
  const defaultDir = isJsonObject(spec) && spec["workingDir"] === undefined && artifactDir === undefined;
  // A namespace's own directory is Ferry's to make; a workingDir that was written must exist.
  if (defaultDir && (await staysInsideRealRoot(env.root, desired.workingDir))) await mkdir(desired.workingDir, { recursive: true });
  if (desired.workingDir !== artifactDir) await checkWorkingDir(object, env.root, desired.workingDir);
  await checkCommand(object, desired.command, desired.workingDir, processEnvironment);
}

/** Refuses to take over an object another application recorded as its own. */
export function assertOwner(kind: string, name: string, recordedOwner: string | undefined, application: string): void {
  if (recordedOwner !== undefined && recordedOwner !== application) {
    throw stalled(
      "OwnedByAnotherApplication",
      `${kind.toLowerCase()} ${name} is managed by application ${JSON.stringify(recordedOwner)}; rename one of them (an overlay's namePrefix), put them in different namespaces (the Application's spec.namespace) or delete it there first`,
    );
  }
}

/** Checks at apply what validate could not: the working directory exists and is not a symlink out of the root. */
export async function checkWorkingDir(object: RenderedObject, root: string, workingDir: string): Promise<void> {
  if (!(await staysInsideRealRoot(root, workingDir))) {
    throw fieldError("PathEscapesRoot", object, "/spec/workingDir", `working directory ${workingDir} resolves through a symlink to a place outside the allowed root ${root}`);
  }
  const info = await stat(workingDir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw fieldError("WorkingDirMissing", object, "/spec/workingDir", `working directory ${workingDir} does not exist or is not a directory`);
  }
}

/** The executable a command names, or a stalled error naming the command (never a silent crash loop). */
export async function checkCommand(
  object: RenderedObject,
  command: string,
  cwd: string,
  env: Readonly<Record<string, string>>,
): Promise<string> {
  const found = await findExecutable(command, cwd, env["PATH"] ?? process.env["PATH"]);
  if (found !== undefined) return found;
  const where = command.includes("/") ? `relative to ${cwd}` : "on PATH";
  throw fieldError("CommandNotFound", object, "/spec/command", `command ${JSON.stringify(command)} was not found ${where} or is not executable`);
}

/** The object's id: its name, with its namespace outside the default one (validated before any handler sees it). */
export function nameOf(object: RenderedObject): string {
  return hostIdOf(object.manifest);
}
