import { escapePointerSegment } from "../../core/json.js";
import { digestOf } from "./digest.js";
import type { RenderedObject } from "../../core/objects.js";
import { secretFieldsOf } from "../../diff/secrets.js";
import { hostSecretFields } from "./host-secrets.js";
import type { RecordSealer } from "./record-seal.js";

/** What a Service's or Job's record keeps of its env: secret values sealed, and which ones are. */
export interface SealedEnv {
  readonly env: Readonly<Record<string, string>>;
  /** Sorted names whose values in `env` are sealed digests, not values. */
  readonly sealedEnv: readonly string[];
}

/**
 * Names of the variables of `env` whose values are secret for this object:
 * secret-looking names, those `spec.secretEnv` lists, and every one when the
 * object is marked `ferry.dev/secret` (or held an encrypted value). The same
 * rule that masks them in diffs. Pure.
 */
export function secretEnvNames(object: RenderedObject, env: Readonly<Record<string, string>>): string[] {
  const secret = secretFieldsOf(object, hostSecretFields(object));
  if (!secret) return [];
  return Object.keys(env)
    .filter((name) => secret(`/env/${escapePointerSegment(name)}`))
    .sort();
}

/** `env` with the values of `names` replaced by their sealed digests (names `env` lacks are left out). */
export function sealEnv(env: Readonly<Record<string, string>>, names: Iterable<string>, sealer: RecordSealer): SealedEnv {
  const sealed = [...new Set(names)].filter((name) => Object.hasOwn(env, name)).sort();
  const out: Record<string, string> = { ...env };
  for (const name of sealed) out[name] = sealer.seal(env[name] ?? "");
  return { env: out, sealedEnv: sealed };
}

/** `desired` with the env values of `names` sealed, and the names that were. */
export function sealDesired<T extends { readonly env: Readonly<Record<string, string>> }>(
  desired: T,
  names: Iterable<string>,
  sealer: RecordSealer,
): { readonly desired: T; readonly sealedEnv: readonly string[] } {
  const { env, sealedEnv } = sealEnv(desired.env, names, sealer);
  return { desired: { ...desired, env }, sealedEnv };
}

/**
 * Whether a record's desired state (secret env values sealed, `sealedEnv`
 * naming them) is exactly `plain`: sealed the same way, both digest the same.
 */
export function recordMatches<T extends { readonly env: Readonly<Record<string, string>> }>(
  plain: T,
  recorded: { readonly desired: T; readonly sealedEnv: readonly string[] },
  sealer: RecordSealer,
): boolean {
  return digestOf(sealDesired(plain, recorded.sealedEnv, sealer).desired) === digestOf(recorded.desired);
}
