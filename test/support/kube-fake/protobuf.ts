// Request bodies in the Kubernetes protobuf encoding, which kubectl's typed
// commands (`kubectl create namespace|configmap|secret|deployment`) send:
// the `k8s\0` magic, a runtime.Unknown envelope (apiVersion, kind, raw), and
// the object's own message. Decoded to JSON for the kinds those commands
// create, by a table of the fields of k8s.io/api's generated.proto; a field
// the table does not know is a 415, never silently dropped.
import { ApiError } from "./status.js";
import type { Json, JsonObject } from "./types.js";

type Field =
  | readonly [name: string, kind: "string" | "int" | "int?" | "bool" | "bool?" | "time" | "strings" | "map" | "bytesMap" | "skip"]
  | readonly [name: string, kind: "message" | "messages", type: string];

const TABLES: Readonly<Record<string, Readonly<Record<number, Field>>>> = {
  ObjectMeta: {
    1: ["name", "string"],
    2: ["generateName", "string"],
    3: ["namespace", "string"],
    4: ["selfLink", "string"],
    5: ["uid", "string"],
    6: ["resourceVersion", "string"],
    7: ["generation", "int"],
    8: ["creationTimestamp", "time"],
    9: ["deletionTimestamp", "time"],
    10: ["deletionGracePeriodSeconds", "int?"],
    11: ["labels", "map"],
    12: ["annotations", "map"],
    14: ["finalizers", "strings"],
    17: ["managedFields", "skip"],
  },
  Namespace: { 1: ["metadata", "message", "ObjectMeta"], 2: ["spec", "message", "NamespaceSpec"], 3: ["status", "skip"] },
  NamespaceSpec: { 1: ["finalizers", "strings"] },
  ConfigMap: { 1: ["metadata", "message", "ObjectMeta"], 2: ["data", "map"], 3: ["binaryData", "bytesMap"], 4: ["immutable", "bool?"] },
  Secret: { 1: ["metadata", "message", "ObjectMeta"], 2: ["data", "bytesMap"], 3: ["type", "string"], 4: ["stringData", "map"], 5: ["immutable", "bool?"] },
  Deployment: { 1: ["metadata", "message", "ObjectMeta"], 2: ["spec", "message", "DeploymentSpec"], 3: ["status", "skip"] },
  DeploymentSpec: {
    1: ["replicas", "int?"],
    2: ["selector", "message", "LabelSelector"],
    3: ["template", "message", "PodTemplateSpec"],
    4: ["strategy", "message", "DeploymentStrategy"],
    5: ["minReadySeconds", "int"],
    6: ["revisionHistoryLimit", "int?"],
    7: ["paused", "bool"],
    9: ["progressDeadlineSeconds", "int?"],
  },
  LabelSelector: { 1: ["matchLabels", "map"], 2: ["matchExpressions", "messages", "LabelSelectorRequirement"] },
  LabelSelectorRequirement: { 1: ["key", "string"], 2: ["operator", "string"], 3: ["values", "strings"] },
  DeploymentStrategy: { 1: ["type", "string"] },
  PodTemplateSpec: { 1: ["metadata", "message", "ObjectMeta"], 2: ["spec", "message", "PodSpec"] },
  PodSpec: {
    2: ["containers", "messages", "Container"],
    3: ["restartPolicy", "string"],
    4: ["terminationGracePeriodSeconds", "int?"],
    5: ["activeDeadlineSeconds", "int?"],
    6: ["dnsPolicy", "string"],
    7: ["nodeSelector", "map"],
    8: ["serviceAccountName", "string"],
    9: ["serviceAccount", "string"],
    10: ["nodeName", "string"],
    11: ["hostNetwork", "bool"],
    12: ["hostPID", "bool"],
    13: ["hostIPC", "bool"],
    16: ["hostname", "string"],
    17: ["subdomain", "string"],
    19: ["schedulerName", "string"],
    24: ["priorityClassName", "string"],
    29: ["runtimeClassName", "string"],
    31: ["preemptionPolicy", "string"],
  },
  Container: {
    1: ["name", "string"],
    2: ["image", "string"],
    3: ["command", "strings"],
    4: ["args", "strings"],
    5: ["workingDir", "string"],
    6: ["ports", "messages", "ContainerPort"],
    7: ["env", "messages", "EnvVar"],
    8: ["resources", "message", "ResourceRequirements"],
    13: ["terminationMessagePath", "string"],
    14: ["imagePullPolicy", "string"],
    16: ["stdin", "bool"],
    17: ["stdinOnce", "bool"],
    18: ["tty", "bool"],
    20: ["terminationMessagePolicy", "string"],
  },
  ContainerPort: { 1: ["name", "string"], 2: ["hostPort", "int"], 3: ["containerPort", "int"], 4: ["protocol", "string"], 5: ["hostIP", "string"] },
  EnvVar: { 1: ["name", "string"], 2: ["value", "string"] },
  ResourceRequirements: {},
  Time: { 1: ["seconds", "int"], 2: ["nanos", "int"] },
};

/** The kinds whose bodies can be decoded. */
const KINDS = new Set(["Namespace", "ConfigMap", "Secret", "Deployment"]);

interface Wire {
  readonly field: number;
  readonly varint?: bigint;
  readonly bytes?: Buffer;
}

function unsupported(what: string): ApiError {
  return new ApiError(415, "UnsupportedMediaType", `the fake API server cannot decode ${what} from protobuf: send JSON (kubectl create -f, or apply)`);
}

function readVarint(buf: Buffer, at: { i: number }): bigint {
  let result = 0n;
  for (let shift = 0n; ; shift += 7n) {
    const byte = buf[at.i++];
    if (byte === undefined) throw new ApiError(400, "BadRequest", "truncated protobuf body");
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return result;
  }
}

function fields(buf: Buffer): Wire[] {
  const out: Wire[] = [];
  const at = { i: 0 };
  while (at.i < buf.length) {
    const tag = Number(readVarint(buf, at));
    const field = tag >> 3;
    const wire = tag & 7;
    if (wire === 0) out.push({ field, varint: readVarint(buf, at) });
    else if (wire === 2) {
      const length = Number(readVarint(buf, at));
      out.push({ field, bytes: buf.subarray(at.i, at.i + length) });
      at.i += length;
    } else throw unsupported(`wire type ${wire}`);
  }
  return out;
}

function text(w: Wire): string {
  return (w.bytes ?? Buffer.alloc(0)).toString("utf8");
}

function entry(w: Wire, bytes: boolean): [string, string] {
  const parts = fields(w.bytes ?? Buffer.alloc(0));
  const key = parts.find((p) => p.field === 1);
  const value = parts.find((p) => p.field === 2);
  const raw = value?.bytes ?? Buffer.alloc(0);
  return [key ? text(key) : "", bytes ? raw.toString("base64") : raw.toString("utf8")];
}

function decodeMessage(buf: Buffer, type: string): JsonObject {
  const table = TABLES[type];
  if (!table) throw unsupported(type);
  const out: JsonObject = {};
  for (const w of fields(buf)) {
    const field = table[w.field];
    if (!field) throw unsupported(`field ${w.field} of ${type}`);
    const [name, kind] = field;
    switch (kind) {
      case "skip":
        break;
      case "string":
        if (text(w) !== "") out[name] = text(w);
        break;
      case "int":
      case "int?":
        if (kind === "int?" || w.varint !== 0n) out[name] = Number(BigInt.asIntN(64, w.varint ?? 0n));
        break;
      case "bool":
      case "bool?":
        if (kind === "bool?" || w.varint !== 0n) out[name] = w.varint !== 0n;
        break;
      case "time": {
        const seconds = Number(decodeMessage(w.bytes ?? Buffer.alloc(0), "Time")["seconds"] ?? 0);
        if (seconds !== 0) out[name] = new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
        break;
      }
      case "strings":
        out[name] = [...((out[name] as Json[] | undefined) ?? []), text(w)];
        break;
      case "map":
      case "bytesMap": {
        const [key, value] = entry(w, kind === "bytesMap");
        const map = (out[name] as JsonObject | undefined) ?? {};
        map[key] = value;
        out[name] = map;
        break;
      }
      case "message":
        out[name] = decodeMessage(w.bytes ?? Buffer.alloc(0), field[2]);
        break;
      case "messages":
        out[name] = [...((out[name] as Json[] | undefined) ?? []), decodeMessage(w.bytes ?? Buffer.alloc(0), field[2])];
        break;
    }
  }
  return out;
}

/** Decodes a `application/vnd.kubernetes.protobuf` body into the object it carries, as JSON. */
export function decodeProtobuf(body: Buffer): JsonObject {
  if (body.length < 4 || body.subarray(0, 4).toString("latin1") !== "k8s\0") throw new ApiError(400, "BadRequest", "provided input did not have the expected protobuf prefix");
  const envelope = fields(body.subarray(4));
  const typeMeta = fields(envelope.find((w) => w.field === 1)?.bytes ?? Buffer.alloc(0));
  const apiVersion = text(typeMeta.find((w) => w.field === 1) ?? { field: 1 });
  const kind = text(typeMeta.find((w) => w.field === 2) ?? { field: 2 });
  if (!KINDS.has(kind)) throw unsupported(`a ${kind || "body without kind"}`);
  return { apiVersion, kind, ...decodeMessage(envelope.find((w) => w.field === 2)?.bytes ?? Buffer.alloc(0), kind) };
}
