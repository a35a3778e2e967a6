import type { JsonValue } from "../core/json.js";
import { escapePointerSegment, isJsonObject } from "../core/json.js";
import type { RenderedObject } from "../core/objects.js";
import { ANNOTATIONS } from "../core/objects.js";
import type { SecretFields } from "../targets/target.js";
import type { FieldDifference } from "./diff-objects.js";

/**
 * What a secret value is reported as. Fixed, with no hash of the value: a
 * short hash of a guessable password is enough to guess it offline.
 */
export const SECRET_MARKER = "(secret)";

const SECRET_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL)/i;

/** True for names that look like they hold a secret (`DB_PASSWORD`, `GITHUB_TOKEN`, `apiKey`). */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** True when the object carries `ferry.dev/secret: "true"`: every value of it is secret. */
export function isMarkedSecret(object: RenderedObject): boolean {
  return object.manifest.metadata.annotations?.[ANNOTATIONS.secret] === "true";
}

/**
 * The secret fields of a desired object: all of them when it is marked
 * secret, else those its target says are (`targetFields`), else none.
 */
export function secretFieldsOf(object: RenderedObject, targetFields?: SecretFields): SecretFields | undefined {
  if (isMarkedSecret(object)) return () => true;
  return targetFields;
}

/**
 * The differences with every secret value replaced by the marker; paths stay,
 * so what changed is still said. Values under a secret pointer, and secret
 * fields inside an object-valued difference, are masked. Pure.
 */
export function maskDifferences<T extends FieldDifference>(differences: readonly T[], secret: SecretFields | undefined): readonly T[] {
  if (!secret) return differences;
  return differences.map((d) => {
    const { desired, live, ...rest } = d;
    return {
      ...rest,
      ...(desired !== undefined ? { desired: maskValue(desired, d.path, secret) } : {}),
      ...(live !== undefined ? { live: maskValue(live, d.path, secret) } : {}),
    } as T;
  });
}

function maskValue(value: JsonValue, pointer: string, secret: SecretFields): JsonValue {
  if (secret(pointer)) return SECRET_MARKER;
  if (!isJsonObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskValue(v, `${pointer}/${escapePointerSegment(k)}`, secret)]));
}
