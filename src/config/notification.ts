import { z } from "zod";
import type { Problem } from "../core/errors.js";
import type { RenderedObject } from "../core/objects.js";
import { applicationNameSchema } from "./application.js";
import { schemaProblems } from "../validate/schema-problems.js";
import { FERRY_API_VERSION } from "./application.js";
import { isObjectName, NAME_RULE, quoteForMessage } from "../render/names.js";

/** Kind of the document that sends alerts to a webhook or a Slack-compatible endpoint. */
export const NOTIFICATION_KIND = "Notification";

/** What can be alerted on. */
export const NOTIFICATION_EVENTS = [
  "SyncFailed",
  "HealthDegraded",
  "DriftDetected",
  "DriftCorrected",
  "Rollback",
  "PromotionAwaitingApproval",
  "PromotionSucceeded",
  "PromotionFailed",
] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

/** A Notification's spec as users write it. */
export const notificationSpecSchema = z
  .strictObject({
    type: z.enum(["webhook", "slack"]).default("webhook").meta({ description: "webhook: a JSON event; slack: a Slack-compatible {text} message." }),
    url: z
      .url({ protocol: /^https?$/, error: "must be an http or https URL" })
      .optional()
      .meta({ description: "Where to POST. A URL holding a token is a secret: prefer urlFrom." }),
    urlFrom: z
      .strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name").meta({ description: "Variable of the agent's environment holding the URL." }) })
      .optional(),
    events: z.array(z.enum(NOTIFICATION_EVENTS)).min(1).optional().meta({ description: "What to alert on; default: all of them." }),
    applications: z.array(applicationNameSchema).min(1).optional().meta({ description: "Only these applications; default: all." }),
  })
  .refine((spec) => (spec.url === undefined) !== (spec.urlFrom === undefined), { message: "give exactly one of url and urlFrom" })
  .meta({ title: "Notification spec" });

export const notificationSchema = z.strictObject({
  apiVersion: z.literal(FERRY_API_VERSION),
  kind: z.literal(NOTIFICATION_KIND),
  metadata: z.strictObject({
    name: z.string().refine(isObjectName, { error: (issue) => `${quoteForMessage(issue.input)} is not a valid notification name: use ${NAME_RULE}` }),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
  spec: notificationSpecSchema,
});

/** One notification, normalized. */
export interface Notification {
  readonly name: string;
  readonly type: "webhook" | "slack";
  /** The URL as written, or where to read it. */
  readonly target: { readonly url: string } | { readonly env: string };
  readonly events: readonly NotificationEvent[];
  /** Undefined: every application. */
  readonly applications?: readonly string[];
}

/** Checks one Notification document and fills in its defaults. */
export function normalizeNotification(object: RenderedObject): { notification?: Notification; problems: Problem[] } {
  const problems = schemaProblems(notificationSchema, object.manifest, object.origin);
  const parsed = notificationSchema.safeParse(object.manifest);
  if (problems.length > 0 || !parsed.success) return { problems };
  const { metadata, spec } = parsed.data;
  const target = spec.url !== undefined ? { url: spec.url } : { env: spec.urlFrom?.env ?? "" };
  return {
    notification: {
      name: metadata.name,
      type: spec.type,
      target,
      events: spec.events ?? [...NOTIFICATION_EVENTS],
      ...(spec.applications ? { applications: spec.applications } : {}),
    },
    problems: [],
  };
}
