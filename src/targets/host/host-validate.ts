import path from "node:path";
import type { FerryError, Problem } from "../../core/errors.js";
import { formatProblem, problemAt, stalled } from "../../core/errors.js";
import { displayKey } from "../../core/ids.js";
import { isJsonObject } from "../../core/json.js";
import { formatLocation } from "../../core/location.js";
import type { RenderedObject } from "../../core/objects.js";
import { escapePointerSegment } from "../../core/json.js";
import { locate } from "../../core/objects.js";
import { schemaProblems } from "../../validate/schema-problems.js";
import { resolveUnderRoot } from "./host-paths.js";
import type { FileSpec, HostKind, JobSpec, ServiceSpec } from "./host-schemas.js";
import { fileSpecSchema, isHostKind, jobSpecSchema, serviceSpecSchema } from "./host-schemas.js";

/** Names become file names in the state directory, so they are kept to a safe alphabet. */
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

/** The normalized spec of each host kind. */
export interface HostSpecs {
  readonly Service: ServiceSpec;
  readonly File: FileSpec;
  readonly Job: JobSpec;
}

const SCHEMAS = { Service: serviceSpecSchema, File: fileSpecSchema, Job: jobSpecSchema } as const;

/**
 * Every problem of one host object that can be known without I/O: the schema
 * of its kind, its name, and paths that escape the root or the repository.
 * Without a `root` (checking a repository before any agent runs it), relative
 * paths must stay below the root and absolute ones cannot be judged.
 */
export function validateHostObject(object: RenderedObject, root?: string): Problem[] {
  const { manifest, origin } = object;
  if (!isHostKind(manifest.kind)) {
    return [problemAt(`kind ${JSON.stringify(manifest.kind)} is not managed by the host target`, locate(origin, "/kind"), "/kind")];
  }
  const problems: Problem[] = [];
  const name = manifest.metadata.name;
  if (typeof name !== "string" || !NAME_PATTERN.test(name)) {
    problems.push(
      problemAt(
        "host object names must start with a letter or digit and contain only letters, digits, '.', '_' and '-'",
        locate(origin, "/metadata/name"),
        "/metadata/name",
      ),
    );
  }
  const schemaIssues = schemaProblems(SCHEMAS[manifest.kind], manifest["spec"], origin, "/spec");
  problems.push(...schemaIssues);
  if (schemaIssues.length > 0) return problems;
  const spec = SCHEMAS[manifest.kind].parse(manifest["spec"]);
  const at = (field: string, message: string): Problem => problemAt(message, locate(origin, field), field);
  const allowedRoot = root === undefined ? "allowed root" : `allowed root ${root}`;
  if ("workingDir" in spec && spec.workingDir !== undefined && escapesRoot(root, spec.workingDir)) {
    problems.push(at("/spec/workingDir", `working directory ${JSON.stringify(spec.workingDir)} escapes the ${allowedRoot}`));
  }
  if ("command" in spec) problems.push(...execProblems(spec, at));
  if ("path" in spec) {
    if (escapesRoot(root, spec.path)) {
      problems.push(at("/spec/path", `path ${JSON.stringify(spec.path)} escapes the ${allowedRoot}`));
    }
    if (spec.contentFrom !== undefined && escapesRepository(locate(origin, "/spec/contentFrom").file, spec.contentFrom)) {
      problems.push(at("/spec/contentFrom", `contentFrom ${JSON.stringify(spec.contentFrom)} must be a relative path that stays inside the repository`));
    }
  }
  return problems;
}

/**
 * The normalized spec of a host object, or a stalled `InvalidSpec` error
 * carrying every problem with its file, line and field.
 */
export function parseHostSpec<K extends HostKind>(kind: K, object: RenderedObject, root: string): HostSpecs[K] {
  const problems = validateHostObject(object, root);
  if (problems.length > 0) {
    throw stalled("InvalidSpec", problems.map(formatProblem).join("; "), { problems });
  }
  return SCHEMAS[kind].parse(object.manifest["spec"]) as HostSpecs[K];
}

/** A stalled error about one field of an object, naming its file and line. */
export function fieldError(reason: string, object: RenderedObject, field: string, message: string, cause?: unknown): FerryError {
  const problem = problemAt(message, locate(object.origin, field), field);
  return stalled(reason, formatProblem(problem), { problems: [problem], ...(cause === undefined ? {} : { cause }) });
}

/** Linux refuses to exec a single argument or environment entry longer than this (MAX_ARG_STRLEN). */
export const MAX_EXEC_STRING_BYTES = 128 * 1024;
/** Ferry's bound on a command line and environment together, well under Linux's ARG_MAX (2 MiB), leaving room for PATH, HOME and Ferry's own variables. */
export const MAX_EXEC_TOTAL_BYTES = 1024 * 1024;

/**
 * What would make the start of a process fail (and, on a replace, leave the
 * service down): a NUL byte in the command, an argument or an env value
 * (exec cannot pass one), one entry over Linux's per-string limit, or all of
 * them over Ferry's total bound.
 */
function execProblems(
  spec: { readonly command: string; readonly args: readonly string[]; readonly env: Readonly<Record<string, string>>; readonly healthCheck?: { readonly exec?: { readonly command: string; readonly args: readonly string[] } | undefined } | undefined },
  at: (field: string, message: string) => Problem,
): Problem[] {
  const problems: Problem[] = [];
  const strings: [field: string, what: string, value: string][] = [
    ["/spec/command", "the command", spec.command],
    ...spec.args.map((arg, i): [string, string, string] => [`/spec/args/${i}`, `argument ${i}`, arg]),
    ...Object.entries(spec.env).map(([name, value]): [string, string, string] => [`/spec/env/${escapePointerSegment(name)}`, `env ${name}`, `${name}=${value}`]),
  ];
  const probe = spec.healthCheck?.exec;
  if (probe) {
    strings.push(["/spec/healthCheck/exec/command", "the health check command", probe.command]);
    probe.args.forEach((arg, i) => strings.push([`/spec/healthCheck/exec/args/${i}`, `health check argument ${i}`, arg]));
  }
  let total = 0;
  for (const [field, what, value] of strings) {
    const bytes = Buffer.byteLength(value) + 1;
    if (!field.startsWith("/spec/healthCheck")) total += bytes + 8;
    if (value.includes("\0")) problems.push(at(field, `${what} contains a NUL byte, which no process can be given`));
    else if (bytes > MAX_EXEC_STRING_BYTES) problems.push(at(field, `${what} is ${bytes} bytes; a process can be given at most ${MAX_EXEC_STRING_BYTES} per argument or variable`));
  }
  if (total > MAX_EXEC_TOTAL_BYTES) {
    problems.push(at("/spec/env", `the command line and environment take ${total} bytes; at most ${MAX_EXEC_TOTAL_BYTES} are allowed (the system refuses to start more)`));
  }
  return problems;
}

function escapesRoot(root: string | undefined, written: string): boolean {
  if (root !== undefined) return resolveUnderRoot(root, written) === undefined;
  if (path.isAbsolute(written)) return false;
  const joined = path.normalize(written);
  return joined === ".." || joined.startsWith(`..${path.sep}`);
}

function escapesRepository(manifestFile: string, written: string): boolean {
  if (path.isAbsolute(written)) return true;
  const joined = path.normalize(path.join(path.dirname(manifestFile), written));
  return joined === ".." || joined.startsWith(`..${path.sep}`) || path.isAbsolute(joined);
}

/**
 * A File whose path another File among `context` writes too (in any
 * namespace or application): one path can have one owner. Reported on every
 * File after the first that names the path. Pure.
 */
export function sharedPathProblems(object: RenderedObject, context: readonly RenderedObject[], root?: string): Problem[] {
  const mine = filePathOf(object, root);
  if (mine === undefined) return [];
  const first = context.find((other) => other.manifest.kind === "File" && other.manifest.apiVersion === object.manifest.apiVersion && filePathOf(other, root) === mine);
  if (!first || first === object) return [];
  const where = formatLocation(locate(first.origin, "/spec/path"));
  const message = `path ${JSON.stringify(mine)} is also written by ${displayKey(first.key)} (at ${where}): one path can have one owner; give one of them another spec.path (an overlay's patch)`;
  return [problemAt(message, locate(object.origin, "/spec/path"), "/spec/path")];
}

/** Where a File writes, as comparable text: resolved against the root when it is known, else normalized. */
function filePathOf(object: RenderedObject, root: string | undefined): string | undefined {
  if (object.manifest.kind !== "File") return undefined;
  const spec = object.manifest["spec"];
  const written = isJsonObject(spec) ? spec["path"] : undefined;
  if (typeof written !== "string" || written === "") return undefined;
  return root === undefined ? path.normalize(written) : resolveUnderRoot(root, written);
}
