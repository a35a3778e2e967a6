import { createHmac, timingSafeEqual } from "node:crypto";

/** Providers whose push webhooks the agent understands. */
export type WebhookProvider = "github" | "gitlab" | "gitea" | "generic";

export const WEBHOOK_PROVIDERS: readonly WebhookProvider[] = ["github", "gitlab", "gitea", "generic"];

/** What a verified push says moved. */
export interface PushNotice {
  /** Repository identities (see repositoryIdentity) the push may name. */
  readonly repositories: readonly string[];
  /** The branch or tag pushed (`main`, `v1.2`), when the payload says. */
  readonly ref?: string;
  /**
   * Files the pushed commits touched (added, modified or removed), when the
   * payload lists them all; absent when it does not or may have cut the list
   * short, and then everything the push may touch is refreshed.
   */
  readonly paths?: readonly string[];
  /** The commit a branch push moved the branch to (`after`), when the payload says; absent for tags and deletions. */
  readonly revision?: string;
}

/** The outcome of checking one webhook request. */
export type WebhookVerdict =
  | { readonly kind: "push"; readonly push: PushNotice; readonly delivery?: string }
  | { readonly kind: "ignored"; readonly status: 200 | 202; readonly reason: string; readonly delivery?: string }
  | { readonly kind: "rejected"; readonly status: 400 | 401; readonly reason: string };

/** Header lookup, lowercase names (as node's IncomingMessage gives them). */
export type Headers = Readonly<Record<string, string | string[] | undefined>>;

/** How far a generic webhook's timestamp may be from now. */
export const GENERIC_TOLERANCE_MS = 5 * 60_000;

/**
 * Checks a webhook request: its signature or token first (constant-time),
 * then its payload. Pure: the caller supplies the secret, the raw body and now.
 * Only a verified push is acted on; anything else is ignored or rejected with
 * the status code to answer.
 */
export function verifyWebhook(provider: WebhookProvider, headers: Headers, body: Buffer, secret: string, now: Date): WebhookVerdict {
  switch (provider) {
    case "github":
      return verifyHmacProvider(headers, body, secret, {
        signature: header(headers, "x-hub-signature-256"),
        prefix: "sha256=",
        event: header(headers, "x-github-event"),
        name: "X-Hub-Signature-256",
      });
    case "gitea":
      return verifyHmacProvider(headers, body, secret, {
        signature: header(headers, "x-forgejo-signature") ?? header(headers, "x-gitea-signature"),
        prefix: "",
        event: header(headers, "x-forgejo-event") ?? header(headers, "x-gitea-event"),
        name: "X-Gitea-Signature",
      });
    case "gitlab":
      return verifyGitlab(headers, body, secret);
    case "generic":
      return verifyGeneric(headers, body, secret, now);
  }
}

function verifyHmacProvider(
  _headers: Headers,
  body: Buffer,
  secret: string,
  given: { signature?: string; prefix: string; event?: string; name: string },
): WebhookVerdict {
  if (!given.signature) return { kind: "rejected", status: 401, reason: `missing ${given.name} header` };
  if (!given.signature.startsWith(given.prefix)) return { kind: "rejected", status: 401, reason: `${given.name} is not ${given.prefix}<hex>` };
  const expected = createHmac("sha256", secret).update(body).digest("hex");
  if (!safeEqual(given.signature.slice(given.prefix.length).toLowerCase(), expected)) return { kind: "rejected", status: 401, reason: "signature does not match" };
  // The replay guard keys on what the signature covers: the body's HMAC. The
  // delivery id header is not signed, so a replay with a fresh id would pass.
  const delivery = { delivery: `${given.name}:${expected}` };
  if (given.event === "ping") return { kind: "ignored", status: 200, reason: "ping", ...delivery };
  if (given.event !== "push") return { kind: "ignored", status: 202, reason: `event ${JSON.stringify(given.event ?? "")} is not a push`, ...delivery };
  const payload = parseJson(body);
  if (!payload) return { kind: "rejected", status: 400, reason: "body is not a JSON object" };
  const repository = record(payload.repository);
  const urls = [repository?.clone_url, repository?.ssh_url, repository?.html_url, repository?.git_url, repository?.url];
  return pushVerdict(urls, payload.ref, payload.commits, delivery, numberOf(payload.total_commits), payload.after);
}

function verifyGitlab(headers: Headers, body: Buffer, secret: string): WebhookVerdict {
  const token = header(headers, "x-gitlab-token");
  if (!token) return { kind: "rejected", status: 401, reason: "missing X-Gitlab-Token header" };
  if (!safeEqual(token, secret)) return { kind: "rejected", status: 401, reason: "token does not match" };
  const event = header(headers, "x-gitlab-event");
  const deliveryId = header(headers, "x-gitlab-event-uuid") ?? header(headers, "idempotency-key");
  const delivery = deliveryId ? { delivery: deliveryId } : {};
  // A system hook (an instance-wide hook) carries the same push body, named by its `event_name`, as Argo CD reads it.
  if (event !== "Push Hook" && event !== "Tag Push Hook" && event !== "System Hook") return { kind: "ignored", status: 202, reason: `event ${JSON.stringify(event ?? "")} is not a push`, ...delivery };
  const payload = parseJson(body);
  if (!payload) return { kind: "rejected", status: 400, reason: "body is not a JSON object" };
  if (event === "System Hook" && payload.event_name !== "push" && payload.event_name !== "tag_push") {
    return { kind: "ignored", status: 202, reason: `system hook event ${JSON.stringify(typeof payload.event_name === "string" ? payload.event_name : "")} is not a push`, ...delivery };
  }
  const project = record(payload.project);
  const repository = record(payload.repository);
  const urls = [project?.git_http_url, project?.git_ssh_url, project?.web_url, repository?.git_http_url, repository?.git_ssh_url, repository?.homepage];
  return pushVerdict(urls, payload.ref, payload.commits, delivery, numberOf(payload.total_commits_count), payload.after);
}

/**
 * The generic receiver: `X-Ferry-Timestamp: <unix seconds>` and
 * `X-Ferry-Signature: sha256=<hex of HMAC-SHA256(secret, "<timestamp>.<body>")>`,
 * body `{"repository": "<url or path>", "ref": "main", "paths": [...]}`.
 * The signed timestamp bounds replays to a few minutes.
 */
function verifyGeneric(headers: Headers, body: Buffer, secret: string, now: Date): WebhookVerdict {
  const signed = verifyFerrySignature(headers, body, secret, now);
  if (signed.kind === "rejected") return signed;
  const signature = signed.delivery;
  const payload = parseJson(body);
  if (!payload || typeof payload.repository !== "string") return { kind: "rejected", status: 400, reason: 'body must be a JSON object with a "repository" string' };
  const paths = Array.isArray(payload.paths) ? payload.paths.filter((p): p is string => typeof p === "string") : undefined;
  return {
    kind: "push",
    push: { repositories: [repositoryIdentity(payload.repository)], ...(typeof payload.ref === "string" ? { ref: shortRef(payload.ref) } : {}), ...(paths ? { paths } : {}) },
    delivery: signature,
  };
}

/**
 * Checks Ferry's own signature scheme (the generic and registry receivers):
 * `X-Ferry-Signature: sha256=<hex of HMAC-SHA256(secret, "<timestamp>.<body>")>`
 * with `X-Ferry-Timestamp` within GENERIC_TOLERANCE_MS of now. The delivery
 * (for the replay guard) is the signature. Pure, constant-time.
 */
export function verifyFerrySignature(
  headers: Headers,
  body: Buffer,
  secret: string,
  now: Date,
): { readonly kind: "signed"; readonly delivery: string } | { readonly kind: "rejected"; readonly status: 401; readonly reason: string } {
  const signature = header(headers, "x-ferry-signature");
  const timestamp = header(headers, "x-ferry-timestamp");
  if (!signature || !timestamp) return { kind: "rejected", status: 401, reason: "missing X-Ferry-Signature or X-Ferry-Timestamp header" };
  if (!/^\d{1,12}$/.test(timestamp)) return { kind: "rejected", status: 401, reason: "X-Ferry-Timestamp is not unix seconds" };
  if (!signature.startsWith("sha256=")) return { kind: "rejected", status: 401, reason: "X-Ferry-Signature is not sha256=<hex>" };
  const expected = createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest("hex");
  if (!safeEqual(signature.slice("sha256=".length).toLowerCase(), expected)) return { kind: "rejected", status: 401, reason: "signature does not match" };
  if (Math.abs(now.getTime() - Number(timestamp) * 1000) > GENERIC_TOLERANCE_MS) return { kind: "rejected", status: 401, reason: "timestamp is too far from now (replayed?)" };
  return { kind: "signed", delivery: signature };
}

/**
 * Payloads list at most this many commits (GitHub and GitLab stop at 20);
 * a push of that many may have had more, whose files are not listed.
 */
export const LISTED_COMMITS_LIMIT = 20;
/** GitHub lists at most this many files over a push's commits. */
export const LISTED_FILES_LIMIT = 2048;

function pushVerdict(urls: readonly unknown[], ref: unknown, commits: unknown, delivery: { delivery?: string }, totalCommits?: number, after?: unknown): WebhookVerdict {
  const repositories = [...new Set(urls.filter((u): u is string => typeof u === "string" && u !== "").map(repositoryIdentity))];
  if (repositories.length === 0) return { kind: "rejected", status: 400, reason: "push payload names no repository" };
  const paths = new Set<string>();
  const list = Array.isArray(commits) ? commits : [];
  let listed = Array.isArray(commits) && list.length > 0 && list.length < LISTED_COMMITS_LIMIT && (totalCommits === undefined || totalCommits <= list.length);
  let files = 0;
  for (const commit of list) {
    const c = record(commit);
    for (const field of ["added", "modified", "removed"]) {
      const names = c?.[field];
      if (!Array.isArray(names)) {
        listed = false;
        continue;
      }
      files += names.length;
      for (const p of names) if (typeof p === "string") paths.add(p);
    }
  }
  if (files >= LISTED_FILES_LIMIT) listed = false;
  return {
    kind: "push",
    push: { repositories, ...(typeof ref === "string" ? { ref: shortRef(ref) } : {}), ...(listed ? { paths: [...paths].sort() } : {}), ...branchCommit(ref, after) },
    ...delivery,
  };
}

/** The commit a branch push moved to; none for a tag (its `after` may be a tag object) or a deletion (all zeros). */
function branchCommit(ref: unknown, after: unknown): { revision?: string } {
  if (typeof ref !== "string" || !ref.startsWith("refs/heads/") || typeof after !== "string") return {};
  const commit = after.toLowerCase();
  return /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(commit) && !/^0+$/.test(commit) ? { revision: commit } : {};
}

function numberOf(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/**
 * What two spellings of one repository have in common: host and path,
 * lowercase, without scheme, user, port, `.git` or trailing slashes
 * (`https://github.com/Org/App.git` and `git@github.com:org/app` agree).
 * Local paths and file URLs become the absolute path.
 */
export function repositoryIdentity(url: string): string {
  const value = url.trim();
  const file = /^file:\/\/(.*)$/i.exec(value);
  if (file) return stripGit(decodeURIComponent(file[1] ?? ""));
  if (value.startsWith("/")) return stripGit(value);
  const scheme = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?([^/:]+)(?::\d+)?(\/.*)?$/i.exec(value);
  if (scheme) return `${(scheme[1] ?? "").toLowerCase()}${stripGit(scheme[2] ?? "").toLowerCase()}`;
  const scp = /^(?:[^@/]+@)?([^/:]+):\/?(.*)$/.exec(value);
  if (scp) return `${(scp[1] ?? "").toLowerCase()}/${stripGit(scp[2] ?? "").toLowerCase()}`;
  return stripGit(value);
}

function stripGit(path: string): string {
  let p = path;
  while (p.endsWith("/")) p = p.slice(0, -1);
  if (p.endsWith(".git")) p = p.slice(0, -4);
  return p;
}

/** `refs/heads/main` -> `main`, `refs/tags/v1` -> `v1`. */
function shortRef(ref: string): string {
  return ref.replace(/^refs\/(heads|tags)\//, "");
}

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function safeEqual(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function parseJson(body: Buffer): Record<string, unknown> | undefined {
  try {
    return record(JSON.parse(body.toString("utf8")));
  } catch {
    return undefined;
  }
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
