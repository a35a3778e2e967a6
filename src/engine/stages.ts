import type { Problem } from "../core/errors.js";
import { formatProblem, stalled, toFerryError, transient } from "../core/errors.js";
import type { Health } from "../core/health.js";
import type { Digest, ResourceKey } from "../core/ids.js";
import { displayKey, shortRevision } from "../core/ids.js";
import type { RenderedObject } from "../core/objects.js";
import type { DesiredState, FieldDifference, ObjectDiff } from "../diff/diff-objects.js";
import { SECRET_MARKER, secretFieldsOf } from "../diff/secrets.js";
import { renderDigest } from "../render/render.js";
import type { RenderSourceOptions, SourceInputs } from "../render/render-source.js";
import { isToolFailure, renderSource } from "../render/render-source.js";
import { createHash } from "node:crypto";
import { ANNOTATIONS } from "../core/objects.js";
import { asDigest } from "../core/ids.js";
import type { ManifestFile } from "../render/load-files.js";
import type { AgeIdentity } from "../secrets/age.js";
import type { DecryptedFiles } from "../secrets/decrypt-files.js";
import { decryptOffThread } from "../render/parse-pool.js";
import type { DecryptedObjects } from "../secrets/decrypt-rendered.js";
import { decryptRenderedObjects, holdsEncryptedContent } from "../secrets/decrypt-rendered.js";
import { undecryptedContentProblems } from "../secrets/undecrypted-content.js";
import type { Artifact } from "../source/artifact.js";
import type { ObjectContext, Target, TargetSettings } from "../targets/target.js";
import { objectProblems } from "../validate/object-problems.js";
import { policyProblemsNamed } from "../validate/policy-check.js";
import type { PolicyRule } from "../config/policy.js";

/** How the render stage renders: the source's tools and Helm values, and the age keys of encrypted content. */
export interface RenderStageOptions extends Omit<RenderSourceOptions, "prepareFiles" | "prepareRendered"> {
  readonly identities?: readonly AgeIdentity[];
}

/** The output of the render stage. */
export interface Rendered {
  readonly objects: readonly RenderedObject[];
  readonly digest: Digest;
  /** The repository paths the render read (absent when not rendered from a source directory). */
  readonly inputs?: SourceInputs;
}

/**
 * Render: the application's directory in the artifact becomes desired
 * objects (plain manifests, an overlay, a kustomization or a Helm chart).
 * Encrypted content is decrypted in memory with `identities`: in plain
 * manifests and overlays before they render (SOPS documents, armored age
 * values), in a kustomize render after it (SOPS documents kustomize passed
 * through, proven by their source files). The objects it was in are marked
 * `ferry.dev/secret` so no value of theirs is shown anywhere, and the digest
 * counts their encrypted text. An object that would still reach the target
 * encrypted (a Helm chart's, an `ENC[...]` outside a SOPS document) stalls
 * the run with DecryptionFailed, as does any problem decrypting. Any problem
 * stalls the run on this revision, naming the file; nothing is applied. A
 * tool that timed out is retried.
 */
export async function renderStage(artifact: Artifact, path: string, options: RenderStageOptions = {}): Promise<Rendered> {
  const { identities = [], ...renderOptions } = options;
  const found: { files?: DecryptedFiles; objects?: DecryptedObjects; encryptedDigest?: Digest } = {};
  const decrypt = async (files: readonly ManifestFile[]): Promise<readonly ManifestFile[]> => {
    // Decrypting parses the files that hold encrypted content: large ones off the main thread.
    found.files = await decryptOffThread(files, identities);
    return found.files.problems.length > 0 ? [] : found.files.files;
  };
  const decryptRendered = async (objects: readonly RenderedObject[], readSources: () => Promise<readonly ManifestFile[]>): Promise<readonly RenderedObject[]> => {
    if (!holdsEncryptedContent(objects)) return objects;
    // The digest of what the tool printed: encrypted values, never plain ones.
    found.encryptedDigest = renderDigest(objects);
    found.objects = decryptRenderedObjects(objects, await readSources(), identities);
    return found.objects.objects;
  };
  let result;
  try {
    result = await renderSource(artifact.directory, path, { ...renderOptions, prepareFiles: decrypt, prepareRendered: decryptRendered });
  } catch (error) {
    const failure = toFerryError(error, "RenderFailed");
    const message = `${failure.message} (revision ${shortRevision(artifact.revision)})`;
    if (failure.disposition === "transient" && isToolFailure(failure)) throw transient(failure.reason, message, { cause: error });
    throw stalled(isToolFailure(failure) ? failure.reason : "RenderFailed", message, { cause: error });
  }
  const failedDecryption = [...(found.files?.problems ?? []), ...(found.objects?.problems ?? [])];
  if (failedDecryption.length > 0) {
    const hint = identities.length === 0 ? " (this agent has no age key: start it with --age-key-file or $FERRY_AGE_KEY_FILE)" : "";
    const problems = failedDecryption.map((p) => ({ ...p, message: p.message + hint }));
    throw stalled("DecryptionFailed", summarizeProblems("decryption failed", problems), { problems });
  }
  if (result.problems.length > 0) {
    throw stalled("RenderFailed", summarizeProblems("rendering failed", result.problems), { problems: result.problems });
  }
  const undecrypted = undecryptedContentProblems(result.objects, result.renderer);
  if (undecrypted.length > 0) throw stalled("DecryptionFailed", summarizeProblems("refusing to apply encrypted content", undecrypted), { problems: undecrypted });
  if (found.objects && found.encryptedDigest) {
    const secretKeys = found.objects.secret;
    return { objects: result.objects.map((o) => (secretKeys.has(o.key) ? markedSecret(o) : o)), digest: found.encryptedDigest, inputs: result.inputs };
  }
  const secret = found.files?.secret;
  if (!secret || secret.size === 0) return { objects: result.objects, digest: renderDigest(result.objects), inputs: result.inputs };
  const objects = result.objects.map((o) => (secret.get(o.origin.file)?.has(o.origin.document) ? markedSecret(o) : o));
  return { objects, digest: secretSafeDigest(objects, result.files, secret), inputs: result.inputs };
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
 * Prepare: the target fills in its defaults (a Kubernetes namespace) before
 * objects are validated, keyed into the inventory and compared. Pure. The
 * digest stays the rendered one: it follows what Git says.
 */
export function prepareStage(rendered: Rendered, target: Target, settings: TargetSettings | undefined): Rendered {
  return target.prepare ? { ...rendered, objects: target.prepare(rendered.objects, settings ?? {}) } : rendered;
}

/**
 * Validate: every object must be a kind the target manages and pass its
 * schema; Ferry's own annotations must be well formed; the repository's
 * Policy rules hold (an error-severity rule broken stalls the run, as in
 * `ferry validate`). Returns the warnings. Pure.
 */
export function validateStage(objects: readonly RenderedObject[], target: Target, policies: readonly PolicyRule[] = []): Problem[] {
  const problems = objectProblems(objects, target);
  const errors = problems.filter((p) => p.severity === "error");
  if (errors.length > 0) throw stalled("ValidationFailed", summarizeProblems("validation failed", errors), { problems });
  const broken = policyProblemsNamed(policies, objects);
  const violations = broken.filter((p) => p.severity === "error");
  if (violations.length > 0) throw stalled("PolicyViolation", summarizeProblems("policy check failed", violations), { problems: broken });
  return [...problems, ...broken];
}

/** Describe: each desired object in the target's comparable form, with the fields that are secret and those ignore rules leave out. */
export async function describeStage(objects: readonly RenderedObject[], target: Target, context: ObjectContext): Promise<DesiredState[]> {
  return Promise.all(
    objects.map(async (object) => {
      const state = await target.describe(object, context);
      const secret = secretFieldsOf(object, target.secretFields?.(object));
      const ignored = target.ignoredFields?.(object, context.settings) ?? [];
      return { object, state, ...(secret ? { secret } : {}), ...(ignored.length > 0 ? { ignored } : {}) };
    }),
  );
}

/** Adds the target's explanations (who changed a field) to the differences of changed objects, ignored ones included. */
export async function explainStage(given: readonly ObjectDiff[], target: Target): Promise<ObjectDiff[]> {
  const diffs = await withContentDiffs(given, target);
  const explain = target.explain?.bind(target);
  if (!explain) return [...diffs];
  return Promise.all(
    diffs.map(async (d) => {
      if (d.type !== "changed" && d.type !== "same") return d;
      const ignored = d.ignored ?? [];
      const differences = d.type === "changed" ? d.differences : [];
      if (differences.length === 0 && ignored.length === 0) return d;
      const notes = await explain(d.key, [...differences, ...ignored].map((f) => f.path));
      if (notes.size === 0) return d;
      const noted = <T extends FieldDifference>(f: T): T => {
        const note = notes.get(f.path);
        return note ? { ...f, explanation: note } : f;
      };
      const withIgnored = ignored.length > 0 ? { ignored: ignored.map(noted) } : {};
      return d.type === "changed" ? { ...d, differences: differences.map(noted), ...withIgnored } : { ...d, ...withIgnored };
    }),
  );
}

/** Adds the target's content diffs to the changed fields that stand for content; a masked (secret) field gets none. */
async function withContentDiffs(diffs: readonly ObjectDiff[], target: Target): Promise<readonly ObjectDiff[]> {
  const contentDiff = target.contentDiff?.bind(target);
  if (!contentDiff) return diffs;
  return Promise.all(
    diffs.map(async (d) => {
      if (d.type !== "changed") return d;
      const differences = await Promise.all(
        d.differences.map(async (f) => {
          if (f.desired === SECRET_MARKER || f.live === SECRET_MARKER) return f;
          const text = await contentDiff(d.key, f.path, f.desired);
          return text === undefined ? f : { ...f, contentDiff: text };
        }),
      );
      return { ...d, differences };
    }),
  );
}

/**
 * Waits until none of the objects is Progressing, or the deadline passes.
 * Returns the last health read, where an object still Progressing at the
 * deadline says it outlasted the timeout. Reports what it waits for.
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
    if (pending.length === 0) return health;
    if (Date.now() >= deadline) return outlasted(health, pending, options.timeoutMs);
    const message = `waiting for ${pending.map(displayKey).join(", ")} to become healthy`;
    if (message !== announced) options.progress(message, "health");
    announced = message;
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 100));
  }
}

/**
 * The health read at the deadline, each object still Progressing saying so:
 * a rollout that never finishes must read as stuck, not as on its way.
 */
function outlasted(health: ReadonlyMap<ResourceKey, Health>, pending: readonly ResourceKey[], timeoutMs: number): ReadonlyMap<ResourceKey, Health> {
  const out = new Map(health);
  const after = timeoutMs % 1000 === 0 ? `${timeoutMs / 1000}s` : `${timeoutMs}ms`;
  for (const key of pending) {
    const h = health.get(key);
    if (h) out.set(key, { status: "Progressing", message: `still progressing after the ${after} health timeout: ${h.message}` });
  }
  return out;
}

/** `validation failed: 2 problems; first: apps/web/a.yaml:3:5: spec.command: ...` */
export function summarizeProblems(prefix: string, problems: readonly Problem[]): string {
  const first = problems[0];
  if (!first) return prefix;
  const count = problems.length === 1 ? "" : ` (${problems.length} problems, first shown)`;
  return `${prefix}${count}: ${formatProblem(first)}`;
}
