// limit and continue on lists: a page of items, and a token that resumes after
// its last item. Unlike the real server, later pages show the objects as they
// are now, not a snapshot at the first page's resourceVersion.
import { badRequest } from "./status.js";
import type { Outcome } from "./object-api.js";
import type { JsonObject } from "./types.js";
import { isObject, objectField, stringField } from "./types.js";

interface Token {
  readonly rv: string;
  readonly after: string;
}

function keyOf(item: JsonObject): string {
  const meta = objectField(item, "metadata");
  return `${stringField(meta, "namespace") ?? ""}/${stringField(meta, "name") ?? ""}`;
}

function decodeToken(text: string): Token {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
    if (isObject(parsed) && typeof parsed["rv"] === "string" && typeof parsed["after"] === "string") return { rv: parsed["rv"], after: parsed["after"] };
  } catch {
    // fall through to the error below
  }
  throw badRequest(`invalid continue token: ${text}`);
}

/** Cuts a list to `limit` items starting after the `continue` token, as the real server pages lists. */
export function paginate(outcome: Outcome, query: URLSearchParams): Outcome {
  const limitText = query.get("limit");
  const continueText = query.get("continue");
  if (!limitText && !continueText) return outcome;
  const items = (outcome.body["items"] as JsonObject[]) ?? [];
  const meta = objectField(outcome.body, "metadata") ?? {};
  let start = 0;
  let rv = stringField(meta, "resourceVersion") ?? "";
  if (continueText) {
    const token = decodeToken(continueText);
    rv = token.rv;
    start = items.findIndex((item) => keyOf(item) > token.after);
    if (start < 0) start = items.length;
  }
  const limit = limitText ? Number(limitText) : 0;
  if (!Number.isInteger(limit) || limit < 0) throw badRequest(`invalid limit: ${limitText ?? ""}`);
  const end = limit > 0 ? Math.min(items.length, start + limit) : items.length;
  const page = items.slice(start, end);
  const pageMeta: JsonObject = { resourceVersion: rv };
  const last = page[page.length - 1];
  if (end < items.length && last) {
    pageMeta["continue"] = Buffer.from(JSON.stringify({ rv, after: keyOf(last) })).toString("base64url");
    pageMeta["remainingItemCount"] = items.length - end;
  }
  return { code: outcome.code, body: { ...outcome.body, metadata: pageMeta, items: page } };
}
