// Type errors the real server's typed decoding reports before anything else:
// a number where a string map is declared (ConfigMap data, labels), a string
// where an integer is, Secret data that is not base64. Each is a 400 whose
// message reads as the real one: `ConfigMap in version "v1" cannot be handled
// as a ConfigMap: json: cannot unmarshal number into Go struct field ...`.
import { badRequest } from "./status.js";
import type { Json, JsonObject, ResourceType } from "./types.js";
import { isObject, objectField } from "./types.js";

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function jsonTypeOf(value: Json | undefined): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (isObject(value)) return "object";
  return typeof value === "boolean" ? "bool" : typeof value;
}

/** Throws the real server's 400 when a typed field of a built-in kind holds the wrong JSON type. */
export function checkDecoding(type: ResourceType, version: string, obj: JsonObject): void {
  if (type.custom) return;
  const fail = (value: Json | undefined, goType: string, field: string, wanted: string): never => {
    throw badRequest(
      `${type.kind} in version "${version}" cannot be handled as a ${type.kind}: json: cannot unmarshal ${jsonTypeOf(value)} into Go struct field ${goType}.${field} of type ${wanted}`,
    );
  };
  const stringMap = (map: Json | undefined, goType: string, field: string): void => {
    if (map === undefined || map === null) return;
    if (!isObject(map)) fail(map, goType, field, "map[string]string");
    for (const value of Object.values(map as JsonObject)) if (typeof value !== "string" && value !== null) fail(value, goType, field, "string");
  };
  const meta = objectField(obj, "metadata");
  stringMap(meta?.["labels"], "ObjectMeta", "metadata.labels");
  stringMap(meta?.["annotations"], "ObjectMeta", "metadata.annotations");
  if (type.kind === "ConfigMap") {
    stringMap(obj["data"], "ConfigMap", "data");
    stringMap(obj["binaryData"], "ConfigMap", "binaryData");
  }
  if (type.kind === "Secret") {
    stringMap(obj["stringData"], "Secret", "stringData");
    stringMap(obj["data"], "Secret", "data");
    for (const value of Object.values(objectField(obj, "data") ?? {})) {
      if (typeof value === "string" && !BASE64.test(value)) {
        throw badRequest(`${type.kind} in version "${version}" cannot be handled as a ${type.kind}: illegal base64 data at input byte ${Math.max(0, value.search(/[^A-Za-z0-9+/=]/))}`);
      }
    }
  }
  const spec = objectField(obj, "spec");
  const replicas = spec?.["replicas"];
  if (replicas !== undefined && replicas !== null && !Number.isInteger(replicas)) fail(replicas, `${type.kind}Spec`, "spec.replicas", "int32");
}
