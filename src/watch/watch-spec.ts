import semver from "semver";
import { z } from "zod";
import { DURATION_PATTERN, parseDuration } from "../config/duration.js";
import { quoteForMessage } from "../render/names.js";

/** The placeholder a directory watcher's `pattern` must contain once. */
export const VERSION_PLACEHOLDER = "{version}";

/** How often a source is asked when `interval` is not given. */
export const DEFAULT_WATCH_INTERVAL = "5m";

/** The default npm registry. */
export const NPM_REGISTRY = "https://registry.npmjs.org";

const rangeSchema = z
  .string()
  .min(1)
  .superRefine((text, ctx) => {
    if (semver.validRange(text) === null) ctx.addIssue({ code: "custom", message: `${quoteForMessage(text)} is not a semver range: use one such as ^1.2.0, >=2 <3 or 1.x` });
  })
  .meta({ description: "Only versions in this semver range (npm's rules: prereleases only where the range names one).", examples: ["^2.0.0", ">=1.4 <2"] });

const regexSchema = z
  .string()
  .min(1)
  .superRefine((text, ctx) => {
    const problem = regexProblem(text);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .meta({ description: "Only names this regular expression matches; the version is its group named `version`, else its first group.", examples: ["^web-(\\d+\\.\\d+\\.\\d+)$"] });

const policySchema = z
  .strictObject({
    semver: rangeSchema.optional(),
    regex: regexSchema.optional(),
    order: z
      .enum(["semver", "newest-build"])
      .default("semver")
      .meta({ description: "semver: the highest version wins; newest-build: the most recently built (file time, index time, publish time, image creation time)." }),
  })
  .meta({ description: "Which discovered versions count and which is newest." });

const intervalSchema = z
  .string()
  .superRefine((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) ctx.addIssue({ code: "custom", message: `invalid duration ${quoteForMessage(text)}: use a Go-style duration such as 30s, 5m or 1h` });
    else if (ms < 1000) ctx.addIssue({ code: "custom", message: "must be at least 1s" });
  })
  .meta({ pattern: DURATION_PATTERN, description: "How often the source is asked (Go-style duration, default 5m).", examples: ["1m", "5m"] });

const common = {
  policy: policySchema.prefault({}),
  interval: intervalSchema.optional(),
};

const directorySchema = z.strictObject({
  type: z.literal("directory"),
  path: z.string().min(1).meta({ description: "The directory of artifacts: absolute, or relative to the agent's working directory." }),
  pattern: z
    .string()
    .min(1)
    .superRefine((text, ctx) => {
      const problem = patternProblem(text);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .meta({ description: "File names to consider, with {version} where the version stands; * matches any run of characters.", examples: ["web-{version}.tar.gz"] }),
  ...common,
});

const httpSchema = z.strictObject({
  type: z.literal("http"),
  url: z.url({ protocol: /^https?$/ }).meta({ description: "A JSON index of versions (see the README's Watchers section for its format)." }),
  versions: z
    .string()
    .optional()
    .meta({ description: "Where the list of versions is in the document: a JSON pointer (/data/releases) or a dotted path (data.releases). Default: the document itself, or its `versions` field." }),
  headers: z.record(z.string(), z.string()).optional().meta({ description: "Extra request headers, e.g. an Accept." }),
  ...common,
});

const npmSchema = z.strictObject({
  type: z.literal("npm"),
  package: z
    .string()
    .regex(/^(@[a-z0-9][-a-z0-9._~]*\/)?[a-z0-9][-a-z0-9._~]*$/, "must be an npm package name such as left-pad or @scope/name")
    .meta({ description: "The package name, scoped or not." }),
  registry: z.url({ protocol: /^https?$/ }).default(NPM_REGISTRY).meta({ description: "The registry's base URL." }),
  distTag: z.string().min(1).optional().meta({ description: "Follow this dist-tag (e.g. latest, next) instead of choosing by policy." }),
  ...common,
});

const ociSchema = z.strictObject({
  type: z.literal("oci"),
  repository: z
    .string()
    .regex(/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\.[a-z0-9-]+)*(?::\d+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/, "must be an image repository such as registry.example.com/team/web or docker.io/library/nginx, without tag or digest")
    .meta({ description: "The image repository: registry host and name. Without a host, Docker Hub." }),
  insecure: z.boolean().default(false).meta({ description: "Speak plain HTTP to the registry." }),
  ...common,
});

/** The `watch:` block of a Pipeline, as users write it: one source of versions and the policy that picks the newest. */
export const watchSpecSchema = z.discriminatedUnion("type", [directorySchema, httpSchema, npmSchema, ociSchema]);

/** A parsed `watch:` block, defaults filled in. */
export type WatchSpec = z.output<typeof watchSpecSchema>;
/** The version policy of a watch block, defaults filled in. */
export type VersionPolicy = WatchSpec["policy"];

/** The watch block's interval in milliseconds (DEFAULT_WATCH_INTERVAL when not given). */
export function watchIntervalMs(spec: WatchSpec): number {
  return parseDuration(spec.interval ?? DEFAULT_WATCH_INTERVAL) ?? 300_000;
}

/** Why a regular expression cannot serve as a version filter, or undefined if it can. */
function regexProblem(text: string): string | undefined {
  let regex: RegExp;
  try {
    regex = new RegExp(text);
  } catch (error) {
    return `invalid regular expression ${quoteForMessage(text)}: ${(error as Error).message}`;
  }
  // A regex with no group has zero capture groups in an alternation that matches the empty string.
  const groups = new RegExp(`${regex.source}|`).exec("")?.length ?? 1;
  if (groups < 2) return `regular expression ${quoteForMessage(text)} has no capture group: wrap the version in ( ) or (?<version> )`;
  return undefined;
}

function patternProblem(text: string): string | undefined {
  if (text.includes("/") || text.includes("\\")) return `${quoteForMessage(text)} must be a file name pattern, without a directory`;
  const count = text.split(VERSION_PLACEHOLDER).length - 1;
  if (count !== 1) return `${quoteForMessage(text)} must contain ${VERSION_PLACEHOLDER} exactly once, e.g. web-{version}.tar.gz`;
  return undefined;
}
