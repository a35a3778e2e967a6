import type { JsonObject } from "../../core/json.js";
import { isJsonObject } from "../../core/json.js";

/** The field manager that owns a field, and how it wrote it (`Apply` or `Update`). */
export interface FieldOwner {
  readonly manager: string;
  readonly operation: string;
}

/**
 * Who owns the field at a JSON pointer of a live object, by its
 * `metadata.managedFields` (fieldsV1): the manager whose set holds the field
 * or, for a whole mapping that differs, one of its fields. Managers in
 * `except` (Ferry itself) are skipped. Pure.
 */
export function ownerOf(live: JsonObject, pointer: string, except: readonly string[]): FieldOwner | undefined {
  return ownersOf(live, pointer).find((o) => !except.includes(o.manager));
}

/** Every manager whose managed fields hold the field at a JSON pointer (or a field inside it), in the object's order. Pure. */
export function ownersOf(live: JsonObject, pointer: string): FieldOwner[] {
  const meta = isJsonObject(live.metadata) ? live.metadata : {};
  const entries = Array.isArray(meta.managedFields) ? meta.managedFields.filter(isJsonObject) : [];
  const segments = pointer.split("/").slice(1).map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
  const out: FieldOwner[] = [];
  for (const entry of entries) {
    if (typeof entry.manager !== "string") continue;
    let node: JsonObject | undefined = isJsonObject(entry.fieldsV1) ? entry.fieldsV1 : undefined;
    for (const segment of segments) {
      const next: unknown = node?.[`f:${segment}`];
      node = isJsonObject(next) ? next : undefined;
      if (!node) break;
    }
    if (node) out.push({ manager: entry.manager, operation: typeof entry.operation === "string" ? entry.operation : "Update" });
  }
  return out;
}
