import type { Headers } from "./verify.js";
import { verifyFerrySignature } from "./verify.js";

/** One artifact a registry says was pushed: an image repository, an npm package, a directory or an index URL. */
export interface PushedArtifact {
  /** `team/web`, `registry.example.com/team/web`, `@scope/pkg`, `/srv/artifacts`, or a URL. */
  readonly name: string;
  /** The registry host the notification names apart from the name (Docker Distribution's `request.host`). */
  readonly host?: string;
  /** The tag or version pushed, when the notification says. */
  readonly version?: string;
}

/** The outcome of checking one registry notification. */
export type RegistryVerdict =
  | { readonly kind: "notice"; readonly artifacts: readonly PushedArtifact[]; readonly delivery: string }
  | { readonly kind: "rejected"; readonly status: 400 | 401; readonly reason: string };

/**
 * Checks a registry push notification at `/hooks/registry`: signed like the
 * generic receiver (X-Ferry-Timestamp, X-Ferry-Signature), then its body,
 * one of:
 * - Docker Distribution's envelope: `{"events": [{"action": "push", "target": {"repository", "tag"}, "request": {"host"}}]}`
 *   (events other than pushes are skipped);
 * - Harbor's: `{"type": "PUSH_ARTIFACT", "event_data": {"repository": {"repo_full_name"}, "resources": [{"tag"}]}}`;
 * - generic: `{"repository": "...", "tag": "..."}`, or npm hook style `{"name": "...", "version": "..."}`.
 * Pure: the caller supplies the secret, the raw body and now.
 */
export function verifyRegistryWebhook(headers: Headers, body: Buffer, secret: string, now: Date): RegistryVerdict {
  const signed = verifyFerrySignature(headers, body, secret, now);
  if (signed.kind === "rejected") return signed;
  let payload: unknown;
  try {
    payload = JSON.parse(body.toString("utf8"));
  } catch {
    return { kind: "rejected", status: 400, reason: "body is not JSON" };
  }
  const artifacts = pushedArtifacts(payload);
  if (typeof artifacts === "string") return { kind: "rejected", status: 400, reason: artifacts };
  return { kind: "notice", artifacts, delivery: signed.delivery };
}

/** The artifacts a notification body names, or why it names none that can be read. Pure. */
export function pushedArtifacts(payload: unknown): PushedArtifact[] | string {
  const body = record(payload);
  if (!body) return "body must be a JSON object";
  if (body.events !== undefined) {
    if (!Array.isArray(body.events)) return "events must be a list";
    const out: PushedArtifact[] = [];
    for (const [index, item] of body.events.entries()) {
      const event = record(item);
      const target = record(event?.target);
      if (!event || !target || typeof target.repository !== "string" || target.repository === "") return `events[${index}].target.repository must be a string`;
      if (event.action !== undefined && event.action !== "push") continue;
      const host = stringOf(record(event.request)?.host);
      const version = stringOf(target.tag);
      out.push({ name: target.repository, ...(host !== undefined ? { host } : {}), ...(version !== undefined ? { version } : {}) });
    }
    return out;
  }
  const eventData = record(body.event_data);
  if (eventData) {
    const name = stringOf(record(eventData.repository)?.repo_full_name);
    if (name === undefined) return "event_data.repository.repo_full_name must be a string";
    if (body.type !== undefined && body.type !== "PUSH_ARTIFACT") return [];
    const resources = Array.isArray(eventData.resources) ? eventData.resources : [];
    const tags = resources.map((r) => stringOf(record(r)?.tag)).filter((t): t is string => t !== undefined);
    return tags.length === 0 ? [{ name }] : tags.map((version) => ({ name, version }));
  }
  const name = stringOf(body.repository) ?? stringOf(body.name);
  if (name === undefined) return 'body must name what was pushed: "repository" (or "name") as a string, or Docker Distribution "events"';
  const version = stringOf(body.tag) ?? stringOf(body.version);
  return [{ name, ...(version !== undefined ? { version } : {}) }];
}

function stringOf(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
