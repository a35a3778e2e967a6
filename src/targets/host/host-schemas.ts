import { z } from "zod";

/** The apiVersion of every kind the host target manages. */
export const HOST_API_VERSION = "host.ferry.dev/v1";

/** The kinds the host target manages. */
export type HostKind = "Service" | "File" | "Job";

/** Signals a service may be asked to stop with. */
export const STOP_SIGNALS = ["SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGKILL"] as const;

const seconds = z.number().nonnegative();
const positiveSeconds = z.number().positive();
const envSchema = z
  .record(z.string().regex(/^[^=\0]+$/, "environment variable names must not contain '=' or NUL"), z.string())
  .describe("Environment variables, added to PATH and HOME of the agent.");
const secretEnvSchema = z
  .array(z.string().min(1))
  .default([])
  .describe(
    "Names of env variables whose values are secret: never shown in diffs, drift or status. Names containing PASSWORD, PASSWD, SECRET, TOKEN, API_KEY, PRIVATE_KEY or CREDENTIAL are secret without being listed.",
  );
const workingDirSchema = z
  .string()
  .min(1)
  .optional()
  .describe("Working directory: relative to the allowed root, or absolute inside it. Default: the artifact's directory when spec.artifact is set, else the root.");

const artifactSchema = z
  .strictObject({
    url: z
      .string()
      .min(1)
      .refine((url) => url.startsWith("/") || /^(file|https?):\/\//.test(url), {
        error: "must be an absolute path, a file:// URL or an http(s):// URL of a .tar.gz or .tgz (or a directory)",
      })
      .describe("Where the artifact is: an absolute path, a file:// or an http(s):// URL of a .tar.gz/.tgz/.tar, or a local directory."),
    digest: z
      .string()
      .regex(/^sha256:[0-9a-f]{64}$/, "must be sha256:<64 lowercase hex digits>, the digest of the archive (or of the directory, see the README)")
      .describe("sha256 of the archive's bytes, checked before anything is unpacked."),
  })
  .describe(
    "A versioned artifact: fetched, checked against its digest and unpacked under the state directory. The process runs in it (or in workingDir, with the artifact's directory in $FERRY_ARTIFACT_DIR).",
  );

const httpCheckSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }).describe("Healthy on any 2xx or 3xx answer."),
});
const tcpCheckSchema = z.strictObject({
  host: z.string().min(1).optional(),
  port: z.number().int().min(1).max(65535),
});
const execCheckSchema = z.strictObject({
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
});

const healthCheckSchema = z
  .strictObject({
    http: httpCheckSchema.optional(),
    tcp: tcpCheckSchema.optional(),
    exec: execCheckSchema.optional(),
    intervalSeconds: positiveSeconds.default(2),
    timeoutSeconds: positiveSeconds.default(2),
    failureThreshold: z.number().int().min(1).default(3),
    startPeriodSeconds: seconds.default(0),
  })
  .superRefine((check, ctx) => {
    const probes = [check.http, check.tcp, check.exec].filter((p) => p !== undefined).length;
    if (probes !== 1) ctx.addIssue({ code: "custom", message: "exactly one of http, tcp or exec is required", path: [] });
  });

const restartSchema = z.strictObject({
  policy: z.enum(["always", "on-failure", "never"]).default("always"),
  backoffSeconds: seconds.default(1),
  maxBackoffSeconds: seconds.default(30),
});

const stopSchema = z.strictObject({
  signal: z.enum(STOP_SIGNALS).default("SIGTERM"),
  gracePeriodSeconds: seconds.default(10),
});

/** The spec of a `Service`: a long-running process, restarted when it dies. */
export const serviceSpecSchema = z.strictObject({
  command: z.string().min(1).describe("An executable: a path (relative to the working directory) or a name found on PATH."),
  args: z.array(z.string()).default([]),
  env: envSchema.default({}),
  secretEnv: secretEnvSchema,
  workingDir: workingDirSchema,
  artifact: artifactSchema.optional(),
  healthCheck: healthCheckSchema.optional(),
  restart: restartSchema.prefault({}),
  stop: stopSchema.prefault({}),
});

/** The spec of a `File`: content written atomically under the allowed root. */
export const fileSpecSchema = z
  .strictObject({
    path: z.string().min(1).describe("Where the file is written: relative to the allowed root, or absolute inside it."),
    content: z.string().optional().describe("The content, inline. Exactly one of content and contentFrom."),
    contentFrom: z.string().min(1).optional().describe("A file of the repository, relative to the directory of this manifest."),
    mode: z.string().regex(/^0?[0-7]{3}$/, "mode must be an octal string like \"0644\"").default("0644"),
  })
  .superRefine((file, ctx) => {
    if (file.content !== undefined && file.contentFrom !== undefined) {
      ctx.addIssue({ code: "custom", message: "set either content or contentFrom, not both", path: ["contentFrom"] });
    } else if (file.content === undefined && file.contentFrom === undefined) {
      ctx.addIssue({ code: "custom", message: "one of content or contentFrom is required", path: [] });
    }
  });

/** The spec of a `Job`: a command run to completion once per change of its spec. */
export const jobSpecSchema = z.strictObject({
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  env: envSchema.default({}),
  secretEnv: secretEnvSchema,
  workingDir: workingDirSchema,
  artifact: artifactSchema.optional(),
  timeoutSeconds: positiveSeconds.default(300).describe("The run is killed, with its process group, after this many seconds."),
});

/** Normalized specs: defaults filled in. */
export type ServiceSpec = z.output<typeof serviceSpecSchema>;
export type HealthCheckSpec = NonNullable<ServiceSpec["healthCheck"]>;
export type RestartSpec = ServiceSpec["restart"];
export type StopSpec = ServiceSpec["stop"];
export type FileSpec = z.output<typeof fileSpecSchema>;
export type JobSpec = z.output<typeof jobSpecSchema>;
/** The `spec.artifact` of a Service or Job. */
export type ArtifactSpec = z.output<typeof artifactSchema>;

/** One kind's schema for the `spec` part, for validation and for the JSON Schema editors use. */
export interface HostKindSchema {
  readonly apiVersion: string;
  readonly kind: HostKind;
  readonly schema: z.ZodType;
}

/** The spec schemas of every host kind. */
export const hostKindSchemas: readonly HostKindSchema[] = [
  { apiVersion: HOST_API_VERSION, kind: "Service", schema: serviceSpecSchema },
  { apiVersion: HOST_API_VERSION, kind: "File", schema: fileSpecSchema },
  { apiVersion: HOST_API_VERSION, kind: "Job", schema: jobSpecSchema },
];

/** Narrows a kind name to a host kind. */
export function isHostKind(kind: string): kind is HostKind {
  return kind === "Service" || kind === "File" || kind === "Job";
}
