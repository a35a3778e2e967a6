import type { z } from "zod";
import type { KindSchema } from "../config/json-schema.js";
import type { KindOrder } from "./kind-order.js";
import type { HealthRuleSet } from "./kubernetes/health/rule-set.js";
import type { Target, TargetSettings, TargetValidator } from "./target.js";

/** The agent's options a target may be created from (`ferry agent --root`, `--kubeconfig`...). */
export interface TargetAgentOptions {
  /** Allowed root of the host target. */
  readonly root: string;
  /** The agent's state directory (absolute); a target keeps its records in a folder of its own under it. */
  readonly stateDir: string;
  readonly kubeconfig?: string;
  readonly kubeContext?: string;
  readonly kubeTimeout?: string;
  /** The health rules of the last accepted configuration. */
  readonly healthRules: () => HealthRuleSet;
}

/** How `ferry validate` asks for a target's validator (offline: no agent, no cluster). */
export interface ValidatorOptions {
  /** The host target's allowed root, when known. */
  readonly root?: string;
}

/** `spec.<target>` of an Application: its schema and what it sets. */
export interface TargetSettingsSchema {
  /** Schema of the block; it appears in the editor schema under `spec.<name>`. */
  readonly schema: z.ZodType;
  /** What a parsed block sets; `field` is where it was written (`spec.kubernetes`), for the sources of rules. */
  readonly toSettings: (value: never, field: string) => TargetSettings;
}

/** One kind of target: everything the rest of Ferry needs to know about it. */
export interface TargetEntry {
  /** The name Applications select it by (`spec.target`). */
  readonly name: string;
  /** Checks rendered objects offline, for `ferry validate`. */
  readonly validator: (options: ValidatorOptions) => TargetValidator;
  /** The targets an agent runs of this kind (none when the agent has nothing to reach). */
  readonly create: (options: TargetAgentOptions) => readonly Target[];
  /** The agent options it reads, by name of TargetAgentOptions. */
  readonly agentOptions: readonly (keyof TargetAgentOptions)[];
  /** `spec.<name>` of an Application, when the target has settings of its own. */
  readonly settings?: TargetSettingsSchema;
  /** How its kinds are ordered inside a wave. */
  readonly kindOrder: KindOrder;
  /** Ferry kinds of its own that a repository holds (host Files, Services, Jobs), for the editor schema. */
  readonly kindSchemas?: readonly KindSchema[];
}
