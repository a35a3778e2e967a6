/**
 * Name rules shared by every object (Kubernetes' DNS-1123 rules, so the same
 * manifests stay valid on every target).
 */

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Longest object name (a DNS subdomain). */
export const MAX_NAME_LENGTH = 253;
/** Longest namespace (a DNS label). */
export const MAX_NAMESPACE_LENGTH = 63;

/** Human description of a valid object name, for error messages. */
export const NAME_RULE = `lowercase letters, digits, "-" and ".", starting and ending with a letter or digit, at most ${MAX_NAME_LENGTH} characters`;
/** Human description of a valid namespace, for error messages. */
export const NAMESPACE_RULE = `lowercase letters, digits and "-", starting and ending with a letter or digit, at most ${MAX_NAMESPACE_LENGTH} characters`;

/** True for a valid `metadata.name`: a DNS subdomain such as `web` or `web.v2`. */
export function isObjectName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && SUBDOMAIN.test(name);
}

/** True for a valid `metadata.namespace`: a DNS label such as `team-a`. */
export function isNamespaceName(name: string): boolean {
  return name.length <= MAX_NAMESPACE_LENGTH && LABEL.test(name);
}

/** JSON Schema pattern of an object name (the length limit is separate). */
export const OBJECT_NAME_PATTERN = SUBDOMAIN.source;

/** Quotes a value for a message, shortened so a huge value cannot flood logs. */
export function quoteForMessage(value: unknown, max = 80): string {
  const text = typeof value === "string" ? value : JSON.stringify(value) ?? String(value);
  const shown = text.length > max ? `${text.slice(0, max)}...` : text;
  return JSON.stringify(shown);
}
