import { z } from "zod";
import type { Problem } from "../core/errors.js";
import { problemAt } from "../core/errors.js";
import type { Origin, RenderedObject } from "../core/objects.js";
import { TARGETS } from "../targets/registry.js";
import type { TargetSettings } from "../targets/target.js";
import { ANNOTATIONS, locate } from "../core/objects.js";
import { isObjectName, NAME_RULE, OBJECT_NAME_PATTERN, quoteForMessage } from "../render/names.js";
import { schemaProblems } from "../validate/schema-problems.js";
import { DURATION_PATTERN, formatDuration, parseDuration } from "./duration.js";
import { gitRefSchema, normalizeSourcePath, repoUrlSchema, sourcePathSchema } from "./source-fields.js";

/** apiVersion of Ferry's own configuration documents. */
export const FERRY_API_VERSION = "ferry.dev/v1";
/** Kind of the document that declares one application. */
export const APPLICATION_KIND = "Application";

/** Timers in Node cannot wait longer than 2^31-1 ms; a longer interval would fire at once, in a loop. */
export const MAX_INTERVAL_MS = 596 * 3_600_000;

/** The defaults a user gets for every field left out. */
export const APPLICATION_DEFAULTS = {
  target: "host",
  automated: true,
  prune: true,
  selfHeal: true,
  interval: "1m",
  suspend: false,
} as const;

/** The longest application name: a label value (ferry.dev/application) holds at most 63 characters. */
export const MAX_APPLICATION_NAME_LENGTH = 63;

/** An application name, as written in `metadata.name` and `dependsOn`. */
export const applicationNameSchema = z
  .string()
  .refine(isObjectName, { error: (issue) => `${quoteForMessage(issue.input)} is not a valid application name: use ${NAME_RULE}` })
  .refine((name) => !isObjectName(name) || name.length <= MAX_APPLICATION_NAME_LENGTH, {
    error: (issue) =>
      `${quoteForMessage(issue.input)} is ${String(issue.input).length} characters long: an application name is at most ${MAX_APPLICATION_NAME_LENGTH}, as it is the value of the ferry.dev/application label on every object it applies`,
  })
  .meta({ pattern: OBJECT_NAME_PATTERN, maxLength: MAX_APPLICATION_NAME_LENGTH });

const intervalSchema = z
  .string()
  .superRefine((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) ctx.addIssue({ code: "custom", message: `invalid duration ${quoteForMessage(text)}: use a Go-style duration such as 500ms, 30s, 5m or 1h30m` });
    else if (ms < 1) ctx.addIssue({ code: "custom", message: "must be at least 1ms" });
    else if (ms > MAX_INTERVAL_MS) ctx.addIssue({ code: "custom", message: `must be at most ${formatDuration(MAX_INTERVAL_MS)}` });
  })
  .meta({ pattern: DURATION_PATTERN, description: "How often live state is re-read and compared (Go-style duration).", examples: ["30s", "5m", "1h30m"] });

/** The `spec` of an Application as users write it: every default optional, every typo an error. */
export const applicationSpecSchema = z
  .strictObject({
    source: z.strictObject({
      path: sourcePathSchema,
      repoURL: repoUrlSchema.optional(),
      ref: gitRefSchema.optional(),
      helm: z
        .strictObject({
          releaseName: z
            .string()
            .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a release name such as web")
            .optional()
            .meta({ description: "Release name; default: the application's name." }),
          namespace: z.string().optional().meta({ description: "Namespace the chart is templated for." }),
          valuesFiles: z.array(sourcePathSchema).optional().meta({ description: "Values files relative to the repository root, applied in order after the chart's values.yaml." }),
          values: z.record(z.string(), z.unknown()).optional().meta({ description: "Values given inline, applied last." }),
        })
        .optional()
        .meta({ description: "How a Helm chart in source.path is templated. values-<environment>.yaml of the chart is applied too." }),
    }),
    target: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a target name such as host")
      .default(APPLICATION_DEFAULTS.target)
      .meta({ description: "The target the objects are applied to." }),
    cluster: z
      .string()
      .min(1)
      .optional()
      .meta({ description: "Kubernetes: the kubeconfig context of the agent to apply to; default: the agent's current context (or the cluster it runs in)." }),
    namespace: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a namespace name such as dev")
      .optional()
      .meta({
        description:
          "The namespace of objects that name none; default `default`. Kubernetes: of namespaced objects. Host: its own records, logs, processes and default working directory (<root>/<namespace>), so environments of one base run side by side.",
      }),
    ...targetSettingShapes(),
    syncPolicy: z
      .strictObject({
        automated: z.boolean().default(APPLICATION_DEFAULTS.automated).meta({ description: "Apply new revisions without being asked." }),
        prune: z.boolean().default(APPLICATION_DEFAULTS.prune).meta({ description: "Delete objects that left Git." }),
        selfHeal: z.boolean().default(APPLICATION_DEFAULTS.selfHeal).meta({ description: "Correct drift." }),
        interval: intervalSchema.default(APPLICATION_DEFAULTS.interval),
      })
      .optional(),
    dependsOn: z.array(applicationNameSchema).optional().meta({ description: "Applications that must be Ready before this one runs." }),
    environment: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be an environment name such as dev, acc or prd")
      .optional()
      .meta({ description: "The environment this application deploys to (dev, acc, prd); the history records it." }),
    suspend: z.boolean().default(APPLICATION_DEFAULTS.suspend).meta({ description: "Stop reconciling until set back to false." }),
  })
  .meta({ title: "Application spec" });

/** A whole Application document. */
export const applicationSchema = z.strictObject({
  apiVersion: z.literal(FERRY_API_VERSION),
  kind: z.literal(APPLICATION_KIND),
  metadata: z.strictObject({
    name: applicationNameSchema,
    namespace: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
  spec: applicationSpecSchema,
});

/** What users write in an Application's `spec` (the loose shape). */
export type ApplicationSpecInput = z.input<typeof applicationSpecSchema>;

/** Where an application's manifests come from. `repoURL` and `ref` undefined: the config repository's. */
export interface ApplicationSource {
  /** Directory relative to the repository root, normalized (`apps/web`, `.` for the root). */
  readonly path: string;
  readonly repoURL?: string;
  readonly ref?: string;
  /** How a Helm chart at `path` is templated. */
  readonly helm?: HelmSource;
}

/** `spec.source.helm`: release and values of a chart. */
export interface HelmSource {
  readonly releaseName?: string;
  readonly namespace?: string;
  /** Repository-relative, normalized. */
  readonly valuesFiles?: readonly string[];
  readonly values?: Readonly<Record<string, unknown>>;
}

/** How an application is kept in sync. */
export interface SyncPolicy {
  readonly automated: boolean;
  readonly prune: boolean;
  readonly selfHeal: boolean;
  /** Milliseconds between re-reads of live state. */
  readonly interval: number;
}

/** The normalized spec: every default filled in, read-only. */
export interface ApplicationSpec {
  readonly source: ApplicationSource;
  readonly target: string;
  /** Kubernetes: the kubeconfig context; absent: the agent's default cluster. */
  readonly cluster?: string;
  /** What the target may use: default namespace, conflict policy, ignore rules. */
  readonly settings?: TargetSettings;
  readonly syncPolicy: SyncPolicy;
  /** Names of applications that must be Ready first, without duplicates. */
  readonly dependsOn: readonly string[];
  readonly suspend: boolean;
  /** The environment it deploys to, for the history. */
  readonly environment?: string;
  /** Set (true) by the `ferry.dev/allow-mass-delete: "true"` annotation: a sync may delete most or all of its objects. */
  readonly allowMassDelete?: true;
}

/** One application, as the engine runs it. */
export interface Application {
  readonly name: string;
  readonly spec: ApplicationSpec;
  readonly origin: Origin;
}

/**
 * Checks one Application document and fills in its defaults. Problems name
 * the field and its line (unknown fields suggest the closest known one).
 */
export function normalizeApplication(object: RenderedObject): { application?: Application; problems: Problem[] } {
  const problems = [...schemaProblems(applicationSchema, object.manifest, object.origin), ...annotationProblems(object)];
  const parsed = applicationSchema.safeParse(object.manifest);
  if (problems.length > 0 || !parsed.success) return { problems };
  const { metadata, spec } = parsed.data;
  const source: ApplicationSource = {
    path: normalizeSourcePath(spec.source.path),
    ...(spec.source.repoURL !== undefined ? { repoURL: spec.source.repoURL } : {}),
    ...(spec.source.ref !== undefined ? { ref: spec.source.ref } : {}),
    ...(spec.source.helm !== undefined ? { helm: helmSourceOf(spec.source.helm) } : {}),
  };
  const policy = spec.syncPolicy;
  const syncPolicy: SyncPolicy = {
    automated: policy?.automated ?? APPLICATION_DEFAULTS.automated,
    prune: policy?.prune ?? APPLICATION_DEFAULTS.prune,
    selfHeal: policy?.selfHeal ?? APPLICATION_DEFAULTS.selfHeal,
    interval: parseDuration(policy?.interval ?? APPLICATION_DEFAULTS.interval) ?? 60_000,
  };
  const applicationSpec: ApplicationSpec = {
    source,
    target: spec.target,
    ...(spec.cluster !== undefined ? { cluster: spec.cluster } : {}),
    ...settingsOf(spec),
    syncPolicy,
    dependsOn: [...new Set(spec.dependsOn ?? [])],
    suspend: spec.suspend,
    ...(spec.environment !== undefined ? { environment: spec.environment } : {}),
    ...(metadata.annotations?.[ANNOTATIONS.allowMassDelete] === "true" ? { allowMassDelete: true as const } : {}),
  };
  return { application: { name: metadata.name, spec: applicationSpec, origin: object.origin }, problems: [] };
}

export { targetKey } from "./target-key.js";

function settingsOf(spec: z.output<typeof applicationSpecSchema>): { settings?: TargetSettings } {
  const settings = targetSettingsOf(spec);
  return Object.keys(settings).length > 0 ? { settings } : {};
}

function targetSettingsOf(spec: z.output<typeof applicationSpecSchema>): TargetSettings {
  const blocks = spec as unknown as Readonly<Record<string, unknown>>;
  let settings: TargetSettings = spec.namespace !== undefined ? { namespace: spec.namespace } : {};
  for (const entry of TARGETS) {
    const value = blocks[entry.name];
    if (entry.settings === undefined || value === undefined) continue;
    settings = { ...settings, ...entry.settings.toSettings(value as never, `spec.${entry.name}`) };
  }
  return settings;
}

/** `spec.<target>` of every target that has settings, each parsed by its registry entry's schema. */
function targetSettingShapes(): Record<string, z.ZodOptional<z.ZodType>> {
  const shapes: Record<string, z.ZodOptional<z.ZodType>> = {};
  for (const entry of TARGETS) {
    if (entry.settings !== undefined) shapes[entry.name] = entry.settings.schema.optional().meta({ description: `Settings of the ${entry.name} target.` });
  }
  return shapes;
}

function helmSourceOf(helm: NonNullable<z.output<typeof applicationSpecSchema>["source"]["helm"]>): HelmSource {
  return {
    ...(helm.releaseName !== undefined ? { releaseName: helm.releaseName } : {}),
    ...(helm.namespace !== undefined ? { namespace: helm.namespace } : {}),
    ...(helm.valuesFiles !== undefined ? { valuesFiles: helm.valuesFiles.map(normalizeSourcePath) } : {}),
    ...(helm.values !== undefined ? { values: helm.values } : {}),
  };
}

/** Ferry's annotations on an Application must say what they mean: a typo must not silently allow nothing. */
function annotationProblems(object: RenderedObject): Problem[] {
  const annotations = object.manifest.metadata.annotations;
  const value = annotations?.[ANNOTATIONS.allowMassDelete];
  if (typeof value !== "string" || value === "true" || value === "false") return [];
  const field = `/metadata/annotations/${ANNOTATIONS.allowMassDelete.replace(/\//g, "~1")}`;
  return [problemAt(`must be "true" or "false", got ${quoteForMessage(value)}`, locate(object.origin, field), field)];
}
