import type { Problem } from "../core/errors.js";
import { formatProblem, stalled } from "../core/errors.js";
import type { Health } from "../core/health.js";
import type { Digest, ResourceKey } from "../core/ids.js";
import { displayKey, shortRevision } from "../core/ids.js";
import type { RenderedObject } from "../core/objects.js";
import type { DesiredState } from "../diff/diff-objects.js";
import { secretFieldsOf } from "../diff/secrets.js";
import { loadSourceFiles } from "../render/load-source.js";
import type { ManifestFile } from "../render/load-files.js";
import type { AgeIdentity } from "../secrets/age.js";
import { decryptManifestFiles } from "../secrets/decrypt-files.js";
import { createHash } from "node:crypto";
import { ANNOTATIONS } from "../core/objects.js";
import { asDigest } from "../core/ids.js";
import { renderDigest, renderDirectory } from "../render/render.js";
import type { Artifact } from "../source/artifact.js";
import type { ObjectContext, Target } from "../targets/target.js";
import { objectProblems } from "../validate/object-problems.js";

/** The output of the render stage. */
export interface Rendered {
  readonly objects: readonly RenderedObject[];
  readonly digest: Digest;
}

/**
 * Render: the application's directory in the artifact becomes desired
 * objects. Encrypted content (SOPS documents, armored age values) is
 * decrypted in memory with `identities` first, and the objects it was in are
 * marked `ferry.dev/secret` so no value of theirs is shown anywhere. Any
 * problem stalls the run on this revision, naming the file; nothing is applied.
 */
export async function renderStage(artifact: Artifact, path: string, identities: readonly AgeIdentity[] = []): Promise<Rendered> {
  let files;
  try {
    files = await loadSourceFiles(artifact.directory, path);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw stalled("RenderFailed", `${message} (revision ${shortRevision(artifact.revision)})`, { cause: error });
  }
  const decrypted = decryptManifestFiles(files, identities);
  if (decrypted.problems.length > 0) {
    const hint = identities.length === 0 ? " (this agent has no age key: start it with --age-key-file or $FERRY_AGE_KEY_FILE)" : "";
    const problems = decrypted.problems.map((p) => ({ ...p, message: p.message + hint }));
    throw stalled("DecryptionFailed", summarizeProblems("decryption failed", problems), { problems });
  }
  const result = renderDirectory(decrypted.files, { dir: path });
  if (result.problems.length > 0) {
    throw stalled("RenderFailed", summarizeProblems("rendering failed", result.problems), { problems: result.problems });
  }
  if (decrypted.secret.size === 0) return { objects: result.objects, digest: renderDigest(result.objects) };
  const objects = result.objects.map((o) => (decrypted.secret.get(o.origin.file)?.has(o.origin.document) ? markedSecret(o) : o));
  return { objects, digest: secretSafeDigest(objects, files, decrypted.secret) };
}

/** The object with `ferry.dev/secret: "true"`: every value of it is masked in diffs, drift, status and history. */
function markedSecret(object: RenderedObject): RenderedObject {
  const metadata = object.manifest.metadata;
  return { ...object, manifest: { ...object.manifest, metadata: { ...metadata, annotations: { ...(metadata.annotations ?? {}), [ANNOTATIONS.secret]: "true" } } } };
}

/**
 * The digest when some objects hold decrypted values: those objects count by
 * their files' encrypted text, never by their plain values (a digest goes into
 * the history, and a hash of a guessable password is enough to guess it).
 */
function secretSafeDigest(objects: readonly RenderedObject[], encrypted: readonly ManifestFile[], secret: ReadonlyMap<string, ReadonlySet<number>>): Digest {
  const plain = objects.filter((o) => o.manifest.metadata.annotations?.[ANNOTATIONS.secret] !== "true" || !secret.has(o.origin.file));
  const hash = createHash("sha256").update(renderDigest(plain));
  for (const file of encrypted.filter((f) => secret.has(f.path))) hash.update(`\n${file.path}\n`).update(createHash("sha256").update(file.content).digest("hex"));
  return asDigest(`sha256:${hash.digest("hex")}`);
}

/**
 * Validate: every object must be a kind the target manages and pass its
 * schema; Ferry's own annotations must be well formed. Pure.
 */
export function validateStage(objects: readonly RenderedObject[], target: Target): void {
  const problems = objectProblems(objects, target);
  const errors = problems.filter((p) => p.severity === "error");
  if (errors.length > 0) throw stalled("ValidationFailed", summarizeProblems("validation failed", errors), { problems });
}

/** Describe: each desired object in the target's comparable form, with the fields that are secret. */
export async function describeStage(objects: readonly RenderedObject[], target: Target, context: ObjectContext): Promise<DesiredState[]> {
  return Promise.all(
    objects.map(async (object) => {
      const state = await target.describe(object, context);
      const secret = secretFieldsOf(object, target.secretFields?.(object));
      return secret ? { object, state, secret } : { object, state };
    }),
  );
}

/**
 * Waits until none of the objects is Progressing, or the deadline passes.
 * Returns the last health read. Reports what it waits for.
 */
export async function waitForHealth(
  target: Target,
  keys: readonly ResourceKey[],
  options: { readonly timeoutMs: number; readonly progress: (message: string, stage: "health") => void; readonly pollMs?: number },
): Promise<ReadonlyMap<ResourceKey, Health>> {
  const deadline = Date.now() + options.timeoutMs;
  let announced = "";
  for (;;) {
    const health = await target.health(keys);
    const pending = keys.filter((k) => health.get(k)?.status === "Progressing");
    if (pending.length === 0 || Date.now() >= deadline) return health;
    const message = `waiting for ${pending.map(displayKey).join(", ")} to become healthy`;
    if (message !== announced) options.progress(message, "health");
    announced = message;
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 100));
  }
}

/** `validation failed: 2 problems; first: apps/web/a.yaml:3:5: spec.command: ...` */
export function summarizeProblems(prefix: string, problems: readonly Problem[]): string {
  const first = problems[0];
  if (!first) return prefix;
  const count = problems.length === 1 ? "" : ` (${problems.length} problems, first shown)`;
  return `${prefix}${count}: ${formatProblem(first)}`;
}
