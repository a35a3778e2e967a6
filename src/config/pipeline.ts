import { z } from "zod";
import type { Problem } from "../core/errors.js";
import type { Origin, RenderedObject } from "../core/objects.js";
import { quoteForMessage } from "../render/names.js";
import { schemaProblems } from "../validate/schema-problems.js";
import { applicationNameSchema, FERRY_API_VERSION } from "./application.js";
import { DURATION_PATTERN, parseDuration } from "./duration.js";
import type { WatchSpec } from "../watch/watch-spec.js";
import { watchSpecSchema } from "../watch/watch-spec.js";

/** Kind of the document that moves versions through environments. */
export const PIPELINE_KIND = "Pipeline";

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const nameSchema = (what: string) =>
  z
    .string()
    .regex(NAME, `must be ${what}: lowercase letters, digits and "-", starting and ending with a letter or digit`)
    .max(63);

const durationSchema = z
  .string()
  .refine((text) => parseDuration(text) !== undefined, { error: (issue) => `invalid duration ${quoteForMessage(issue.input)}: use a Go-style duration such as 30s, 5m or 1h` })
  .meta({ pattern: DURATION_PATTERN });

/** An HTTP check of a verification gate. */
const httpCheckSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: "must be an http or https URL" }),
  status: z.number().int().min(100).max(599).default(200).meta({ description: "Expected status code." }),
  body: z.string().optional().meta({ description: "Text the body must contain." }),
});

/** One step of a pipeline as users write it. */
const environmentSchema = z.strictObject({
  name: nameSchema("an environment name such as dev, acc or prd"),
  application: applicationNameSchema.optional().meta({ description: "The Application deploying this environment; default: the one whose spec.environment is this name." }),
  promotion: z.enum(["automatic", "manual"]).default("automatic").meta({ description: "automatic: promoted as soon as the previous environment passed its gates; manual: waits for ferry promote." }),
  approval: z.boolean().default(false).meta({ description: "A person must run ferry approve before the version is written into this environment." }),
  verify: z
    .strictObject({
      job: z.string().min(1).optional().meta({ description: "Name of a Job of the environment's application (a host Job, a Kubernetes batch/v1 Job): the gate runs it for each version once that version synced and is healthy, and that run decides." }),
      http: z.array(httpCheckSchema).min(1).optional(),
      timeout: durationSchema.default("5m").meta({ description: "How long the environment may take to sync, become healthy and pass verification." }),
    })
    .optional(),
  soak: durationSchema.optional().meta({ description: "How long the environment must stay healthy after verification before the next step." }),
  onFailure: z.enum(["stop", "rollback"]).default("stop").meta({ description: "stop: keep what runs and stop the promotion; rollback: also roll the environment back." }),
});

/** The `spec` of a Pipeline as users write it. */
export const pipelineSpecSchema = z
  .strictObject({
    environments: z.array(environmentSchema).min(1).meta({ description: "The environments in promotion order." }),
    watch: watchSpecSchema.optional().meta({ description: "Where new versions are discovered; a new one is written into the first environment. Without it, versions enter by ferry promote." }),
    write: z
      .strictObject({
        mode: z.enum(["push", "pull-request"]).default("push").meta({ description: "push: commit to the branch; pull-request: push a branch ferry/promote/<pipeline>/<env>-<version> to merge." }),
        minInterval: durationSchema.default("10s").meta({ description: "Least time between two commits of this pipeline; bumps in between go into one commit." }),
      })
      .optional(),
  })
  .meta({ title: "Pipeline spec" });

/** A whole Pipeline document. */
export const pipelineSchema = z.strictObject({
  apiVersion: z.literal(FERRY_API_VERSION),
  kind: z.literal(PIPELINE_KIND),
  metadata: z.strictObject({
    name: nameSchema("a pipeline name"),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
  spec: pipelineSpecSchema,
});

/** An HTTP check, normalized. */
export interface HttpCheck {
  readonly url: string;
  readonly status: number;
  readonly body?: string;
}

/** One environment of a pipeline, normalized. */
export interface PipelineStep {
  readonly environment: string;
  /** As written; resolved against the Applications by loadApplications. */
  readonly application: string;
  readonly promotion: "automatic" | "manual";
  readonly approval: boolean;
  readonly verify: { readonly job?: string; readonly http: readonly HttpCheck[]; readonly timeoutMs: number };
  readonly soakMs: number;
  readonly onFailure: "stop" | "rollback";
  /** Index in spec.environments, for messages with lines. */
  readonly index: number;
}

/** A pipeline, normalized. */
export interface Pipeline {
  readonly name: string;
  readonly steps: readonly PipelineStep[];
  /** Where new versions are discovered. */
  readonly watch?: WatchSpec;
  readonly write: { readonly mode: "push" | "pull-request"; readonly minIntervalMs: number };
  readonly origin: Origin;
}

/**
 * Checks one Pipeline document and fills in its defaults. References to
 * applications are resolved by loadApplications (it knows them all); an
 * environment listed twice is reported here, on its line.
 */
export function normalizePipeline(object: RenderedObject): { pipeline?: Pipeline; problems: Problem[] } {
  const problems = schemaProblems(pipelineSchema, object.manifest, object.origin);
  const parsed = pipelineSchema.safeParse(object.manifest);
  if (problems.length > 0 || !parsed.success) return { problems };
  const { metadata, spec } = parsed.data;
  const steps: PipelineStep[] = spec.environments.map((e, index) => ({
    environment: e.name,
    application: e.application ?? "",
    promotion: e.promotion,
    approval: e.approval,
    verify: {
      ...(e.verify?.job !== undefined ? { job: e.verify.job } : {}),
      http: (e.verify?.http ?? []).map((h) => ({ url: h.url, status: h.status, ...(h.body !== undefined ? { body: h.body } : {}) })),
      timeoutMs: parseDuration(e.verify?.timeout ?? "5m") ?? 300_000,
    },
    soakMs: e.soak !== undefined ? (parseDuration(e.soak) ?? 0) : 0,
    onFailure: e.onFailure,
    index,
  }));
  return {
    pipeline: {
      name: metadata.name,
      steps,
      ...(spec.watch ? { watch: spec.watch } : {}),
      write: { mode: spec.write?.mode ?? "push", minIntervalMs: parseDuration(spec.write?.minInterval ?? "10s") ?? 10_000 },
      origin: object.origin,
    },
    problems: [],
  };
}
