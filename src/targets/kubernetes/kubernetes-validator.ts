import { groupOf } from "../../core/ids.js";
import type { TargetSettings, TargetValidator } from "../target.js";
import type { RenderedObject } from "../../core/objects.js";
import { withDefaultNamespace } from "./scope.js";

/** The name Applications select the Kubernetes target by. */
export const KUBERNETES_TARGET = "kubernetes";

const API_VERSION = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?v[0-9]+((alpha|beta)[0-9]+)?$/;
const KIND = /^[A-Z][A-Za-z0-9]*$/;

/** True for Ferry's own API groups, which no cluster serves. */
function isFerryGroup(group: string): boolean {
  return group === "ferry.dev" || group.endsWith(".ferry.dev");
}

/** The Kubernetes target's pure side: what it manages and the default namespace. Used by `ferry validate` too. */
export interface KubernetesValidator extends TargetValidator {
  prepare(objects: readonly RenderedObject[], settings: TargetSettings): readonly RenderedObject[];
}

/**
 * Which objects the Kubernetes target takes: any well-formed apiVersion and
 * kind outside Ferry's own groups (custom resources are only known to the
 * cluster, which has the last word when they are applied). Pure.
 */
export function kubernetesValidator(name = KUBERNETES_TARGET): KubernetesValidator {
  return {
    name,
    supports: (apiVersion, kind) => API_VERSION.test(apiVersion) && KIND.test(kind) && !isFerryGroup(groupOf(apiVersion)),
    validate: () => [],
    prepare: (objects, settings) => withDefaultNamespace(objects, settings.namespace),
  };
}
