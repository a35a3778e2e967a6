import { groupOf } from "../../core/ids.js";
import type { RenderedObject } from "../../core/objects.js";
import type { TargetSettings, TargetValidator } from "../target.js";
import { KUBERNETES_TARGET, kubernetesValidator } from "./kube-validate.js";
import { withDefaultNamespace } from "./scope.js";
import { kubernetesRunnable } from "./job-runs.js";

export { KUBERNETES_TARGET };

const API_VERSION = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?v[0-9]+((alpha|beta)[0-9]+)?$/;
const KIND = /^[A-Z][A-Za-z0-9]*$/;

/** The Kubernetes target's defaults: the application's namespace on namespaced objects that name none. Pure. */
export function prepareKubernetesObjects(objects: readonly RenderedObject[], settings: TargetSettings): readonly RenderedObject[] {
  return withDefaultNamespace(objects, settings.namespace);
}

/**
 * What the agent's Kubernetes target takes: Kubernetes' own kinds and those
 * defined by CustomResourceDefinitions among the objects, checked against
 * their schemas; and any other well-formed apiVersion and kind outside
 * Ferry's own groups, unchecked, since only the cluster knows the custom
 * kinds it serves (an unknown one is reported when the object is compared).
 * Pure.
 */
export function kubernetesTargetValidator(name = KUBERNETES_TARGET, strict: TargetValidator = kubernetesValidator()): TargetValidator & { prepare: typeof prepareKubernetesObjects; runnable: typeof kubernetesRunnable } {
  return {
    name,
    supports: (apiVersion, kind) => strict.supports(apiVersion, kind) || (API_VERSION.test(apiVersion) && KIND.test(kind) && !isFerryGroup(groupOf(apiVersion))),
    validate: (object) => (strict.supports(object.manifest.apiVersion, object.manifest.kind) ? strict.validate(object) : []),
    withObjects: (objects) => kubernetesTargetValidator(name, strict.withObjects?.(objects) ?? strict),
    prepare: prepareKubernetesObjects,
    runnable: kubernetesRunnable,
  };
}

/** True for Ferry's own API groups, which no cluster serves. */
function isFerryGroup(group: string): boolean {
  return group === "ferry.dev" || group.endsWith(".ferry.dev");
}
