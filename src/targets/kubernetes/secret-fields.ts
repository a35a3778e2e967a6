import { groupOf } from "../../core/ids.js";
import type { RenderedObject } from "../../core/objects.js";
import type { SecretFields } from "../target.js";

/** A Secret's value fields, as a whole or one key of them: `/data`, `/data/token`, `/stringData/password`. */
const SECRET_VALUES = /^\/(data|stringData)(\/|$)/;

/**
 * The secret fields of a Kubernetes object's comparable state: every value
 * of a core Secret (`data`, and `stringData` where a live object still shows
 * it), on either side of a diff. Other kinds hold none beyond the
 * `ferry.dev/secret` annotation. Pure.
 */
export function kubernetesSecretFields(object: RenderedObject): SecretFields | undefined {
  const { apiVersion, kind } = object.manifest;
  if (kind !== "Secret" || groupOf(apiVersion) !== "") return undefined;
  return (pointer) => SECRET_VALUES.test(pointer);
}
