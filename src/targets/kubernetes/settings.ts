import { z } from "zod";
import type { IgnoreRule, TargetSettings } from "../target.js";

/** `spec.kubernetes` of an Application. */
export const kubernetesSettingsSchema = z.strictObject({
  forceConflicts: z
    .boolean()
    .optional()
    .meta({ description: "Take fields that another applier owns instead of reporting a conflict (hand edits are always taken back)." }),
  adopt: z
    .boolean()
    .optional()
    .meta({ description: "Take over objects that already exist in the cluster but were not created by Ferry (default: refuse them; one object can say so with the annotation ferry.dev/adopt: \"true\"). Adoptions are recorded in the history." }),
  pruneAdopted: z
    .boolean()
    .optional()
    .meta({ description: "Delete adopted objects too when they leave Git (default: release them: left in place, no longer managed)." }),
  ignoreDifferences: z
    .array(
      z.strictObject({
        group: z.string().optional(),
        kind: z.string().optional(),
        name: z.string().optional(),
        namespace: z.string().optional(),
        jsonPointers: z.array(z.string().regex(/^(\/[^/]*)+$/, "must be a JSON pointer such as /spec/replicas")).min(1),
      }),
    )
    .optional()
    .meta({ description: "Fields of selected objects left out of comparisons and of updates to existing objects (an autoscaler's /spec/replicas): never drift, but listed in diffs where they differ from Git, with the rule." }),
});

/** What a parsed `spec.kubernetes` sets; `field` names it in the sources of its ignore rules. */
export function kubernetesSettingsOf(value: z.output<typeof kubernetesSettingsSchema>, field: string): TargetSettings {
  const ignore: IgnoreRule[] = (value.ignoreDifferences ?? []).map((r, index) => ({
    ...(r.group !== undefined ? { group: r.group } : {}),
    ...(r.kind !== undefined ? { kind: r.kind } : {}),
    ...(r.name !== undefined ? { name: r.name } : {}),
    ...(r.namespace !== undefined ? { namespace: r.namespace } : {}),
    jsonPointers: r.jsonPointers,
    source: `${field}.ignoreDifferences[${index}]`,
  }));
  return {
    ...(value.forceConflicts === true ? { forceConflicts: true } : {}),
    ...(value.adopt === true ? { adopt: true } : {}),
    ...(value.pruneAdopted === true ? { pruneAdopted: true } : {}),
    ...(ignore.length > 0 ? { ignoreDifferences: ignore } : {}),
  };
}
