import { escapePointerSegment, isJsonObject } from "../../core/json.js";
import type { RenderedObject } from "../../core/objects.js";
import { isSecretName } from "../../diff/secrets.js";
import type { SecretFields } from "../target.js";

/**
 * The secret fields of a host object's comparable state: env variables of a
 * Service or Job whose name looks secret, or that `spec.secretEnv` lists. A
 * variable that is only on the live side (removed from Git) is judged by the
 * same rule. Pure.
 */
export function hostSecretFields(object: RenderedObject): SecretFields | undefined {
  const kind = object.manifest.kind;
  if (kind !== "Service" && kind !== "Job") return undefined;
  const spec = object.manifest["spec"];
  const listed = isJsonObject(spec) ? spec["secretEnv"] : undefined;
  const names = new Set(Array.isArray(listed) ? listed.filter((n): n is string => typeof n === "string").map(escapePointerSegment) : []);
  return (pointer) => {
    const match = /^\/env\/([^/]+)/.exec(pointer);
    if (!match?.[1]) return false;
    const escaped = match[1];
    return names.has(escaped) || isSecretName(escaped.replace(/~1/g, "/").replace(/~0/g, "~"));
  };
}
