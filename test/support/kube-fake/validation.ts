// Validation the real server does before storing an object: names, labels, the
// fields some kinds require, and fields that cannot change once set. Each
// failure is a cause of a 422 Invalid, named by field as the real server does.
import type { StatusCause } from "./status.js";
import { invalid } from "./status.js";
import type { Json, JsonObject, ResourceType } from "./types.js";
import { isObject, jsonEqual, objectField, stringField } from "./types.js";

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** Kinds whose names must be DNS labels (no dots), not subdomains. */
const LABEL_NAMED = new Set(["Namespace", "Service"]);

function goValue(value: Json | undefined): string {
  return JSON.stringify(value ?? null);
}

function required(field: string, detail = ""): StatusCause {
  return { reason: "FieldValueRequired", message: `Required value${detail ? `: ${detail}` : ""}`, field };
}

function invalidValue(field: string, value: Json | undefined, detail: string): StatusCause {
  return { reason: "FieldValueInvalid", message: `Invalid value: ${goValue(value)}: ${detail}`, field };
}

function checkName(type: ResourceType, name: string, causes: StatusCause[]): void {
  if (type.group === "rbac.authorization.k8s.io") {
    // RBAC names are path segments (system:discovery), as ValidateRBACName says.
    const bad = name === "." ? "may not be '.'" : name === ".." ? "may not be '..'" : name.includes("/") ? "may not contain '/'" : name.includes("%") ? "may not contain '%'" : undefined;
    if (bad) causes.push(invalidValue("metadata.name", name, bad));
  } else if (LABEL_NAMED.has(type.kind) && !type.custom) {
    if (!LABEL.test(name) || name.length > 63) {
      causes.push(
        invalidValue(
          "metadata.name",
          name,
          "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
        ),
      );
    }
  } else if (!SUBDOMAIN.test(name) || name.length > 253) {
    causes.push(
      invalidValue(
        "metadata.name",
        name,
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      ),
    );
  }
}

function checkLabels(meta: JsonObject, causes: StatusCause[]): void {
  const labels = objectField(meta, "labels") ?? {};
  for (const [key, value] of Object.entries(labels)) {
    const [prefix, name] = key.includes("/") ? [key.slice(0, key.indexOf("/")), key.slice(key.indexOf("/") + 1)] : [undefined, key];
    if ((prefix !== undefined && !SUBDOMAIN.test(prefix)) || !QUALIFIED_NAME.test(name) || name.length > 63) {
      causes.push(invalidValue("metadata.labels", key, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"));
    }
    if (typeof value !== "string" || !LABEL_VALUE.test(value) || value.length > 63) {
      causes.push(invalidValue("metadata.labels", value, "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"));
    }
  }
}

function matchesSelector(selector: JsonObject | undefined, labels: JsonObject | undefined): boolean {
  const matchLabels = objectField(selector, "matchLabels") ?? {};
  return Object.entries(matchLabels).every(([k, v]) => labels?.[k] === v);
}

function checkPodTemplate(spec: JsonObject, prefix: string, causes: StatusCause[], needsSelector: boolean): void {
  const selector = objectField(spec, "selector");
  if (needsSelector && !selector) causes.push(required(`${prefix}selector`));
  const template = objectField(spec, "template");
  if (!template) {
    causes.push(required(`${prefix}template`));
    return;
  }
  const labels = objectField(objectField(template, "metadata"), "labels");
  if (selector && !matchesSelector(selector, labels)) {
    causes.push(invalidValue(`${prefix}template.metadata.labels`, labels ?? {}, "`selector` does not match template `labels`"));
  }
  checkPodSpec(objectField(template, "spec"), `${prefix}template.spec.`, causes);
}

function checkPodSpec(spec: JsonObject | undefined, prefix: string, causes: StatusCause[]): void {
  const containers = spec?.["containers"];
  if (!Array.isArray(containers) || containers.length === 0) {
    causes.push(required(`${prefix}containers`));
    return;
  }
  containers.forEach((c, i) => {
    if (!isObject(c) || !stringField(c, "name")) causes.push(required(`${prefix}containers[${i}].name`));
    if (!isObject(c) || !stringField(c, "image")) causes.push(required(`${prefix}containers[${i}].image`));
  });
}

function checkKind(type: ResourceType, obj: JsonObject, causes: StatusCause[]): void {
  if (type.custom) return;
  const spec = objectField(obj, "spec");
  switch (type.kind) {
    case "Deployment":
    case "StatefulSet":
    case "DaemonSet":
    case "ReplicaSet":
      checkPodTemplate(spec ?? {}, "spec.", causes, true);
      if (typeof spec?.["replicas"] === "number" && spec["replicas"] < 0) causes.push(invalidValue("spec.replicas", spec["replicas"], "must be greater than or equal to 0"));
      break;
    case "Job": {
      checkPodTemplate(spec ?? {}, "spec.", causes, false);
      const restart = stringField(objectField(objectField(spec, "template"), "spec"), "restartPolicy");
      if (restart !== "Never" && restart !== "OnFailure") {
        causes.push({ reason: "FieldValueNotSupported", message: `Unsupported value: ${goValue(restart ?? "")}: supported values: "OnFailure", "Never"`, field: "spec.template.spec.restartPolicy" });
      }
      break;
    }
    case "Pod":
      checkPodSpec(spec, "spec.", causes);
      break;
    case "Service": {
      const ports = spec?.["ports"];
      const headless = spec?.["clusterIP"] === "None" || spec?.["type"] === "ExternalName";
      if (!headless && (!Array.isArray(ports) || ports.length === 0)) causes.push(required("spec.ports"));
      break;
    }
    case "RoleBinding":
    case "ClusterRoleBinding":
      if (!objectField(obj, "roleRef")) causes.push(required("roleRef.name"));
      break;
    case "CustomResourceDefinition": {
      const names = objectField(spec, "names");
      const group = stringField(spec, "group");
      if (!group) causes.push(required("spec.group"));
      if (!stringField(names, "plural")) causes.push(required("spec.names.plural"));
      if (!stringField(names, "kind")) causes.push(required("spec.names.kind"));
      const name = stringField(objectField(obj, "metadata"), "name");
      if (group && stringField(names, "plural") && name !== `${stringField(names, "plural")}.${group}`) {
        causes.push(invalidValue("metadata.name", name, `must be spec.names.plural+"."+spec.group`));
      }
      const versions = spec?.["versions"];
      if (!Array.isArray(versions) || versions.length === 0) causes.push(required("spec.versions"));
      else if (versions.filter((v) => isObject(v) && v["storage"] === true).length !== 1) causes.push(invalidValue("spec.versions", null, "must have exactly one version marked as storage version"));
      if (spec?.["scope"] !== "Namespaced" && spec?.["scope"] !== "Cluster") causes.push({ reason: "FieldValueNotSupported", message: `Unsupported value: ${goValue(spec?.["scope"])}: supported values: "Cluster", "Namespaced"`, field: "spec.scope" });
      break;
    }
  }
}

/** Throws the real server's 422 when a new or changed object is invalid. */
export function validateObject(type: ResourceType, obj: JsonObject): void {
  const meta = objectField(obj, "metadata") ?? {};
  const name = stringField(meta, "name") ?? "";
  const causes: StatusCause[] = [];
  if (name === "") causes.push(required("metadata.name", "name or generateName is required"));
  else checkName(type, name, causes);
  checkLabels(meta, causes);
  checkKind(type, obj, causes);
  if (causes.length > 0) throw invalid(type, name, causes);
}

function immutable(field: string, value: Json | undefined): StatusCause {
  return invalidValue(field, value, "field is immutable");
}

/** Throws the real server's 422 when an update changes a field that cannot change. */
export function validateUpdate(type: ResourceType, before: JsonObject, after: JsonObject): void {
  if (type.custom) return;
  const causes: StatusCause[] = [];
  const was = objectField(before, "spec");
  const now = objectField(after, "spec");
  const changed = (key: string): boolean => !jsonEqual(was?.[key], now?.[key]);
  switch (type.kind) {
    case "Deployment":
    case "DaemonSet":
    case "ReplicaSet":
      if (changed("selector")) causes.push(immutable("spec.selector", now?.["selector"]));
      break;
    case "StatefulSet": {
      const mutable = new Set(["replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy", "minReadySeconds"]);
      const keys = new Set([...Object.keys(was ?? {}), ...Object.keys(now ?? {})]);
      if ([...keys].some((k) => !mutable.has(k) && changed(k))) {
        causes.push({
          reason: "FieldValueForbidden",
          message:
            "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
          field: "spec",
        });
      }
      break;
    }
    case "Job":
      if (changed("selector")) causes.push(immutable("spec.selector", now?.["selector"]));
      if (changed("template")) causes.push(immutable("spec.template", now?.["template"]));
      if (changed("completions")) causes.push(immutable("spec.completions", now?.["completions"]));
      break;
    case "Service":
      if (was?.["clusterIP"] !== undefined && now?.["type"] !== "ExternalName" && changed("clusterIP")) causes.push(immutable("spec.clusterIP", now?.["clusterIP"]));
      break;
    case "PersistentVolumeClaim": {
      const strip = (spec: JsonObject | undefined): JsonObject => {
        const copy: JsonObject = { ...(spec ?? {}) };
        delete copy["resources"];
        delete copy["volumeAttributesClassName"];
        if (was?.["volumeName"] === undefined) delete copy["volumeName"];
        return copy;
      };
      if (!jsonEqual(strip(was), strip(now))) {
        causes.push({ reason: "FieldValueForbidden", message: "Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims", field: "spec" });
      }
      break;
    }
    case "ConfigMap":
    case "Secret":
      if (before["immutable"] === true) {
        for (const key of ["data", "binaryData", "stringData"]) {
          if (!jsonEqual(before[key], after[key])) causes.push({ reason: "FieldValueForbidden", message: "Forbidden: field is immutable when `immutable` is set", field: key });
        }
        if (after["immutable"] !== true) causes.push({ reason: "FieldValueForbidden", message: "Forbidden: field is immutable when `immutable` is set", field: "immutable" });
      }
      if (type.kind === "Secret" && !jsonEqual(before["type"], after["type"])) causes.push(immutable("type", after["type"]));
      break;
    case "RoleBinding":
    case "ClusterRoleBinding":
      if (!jsonEqual(before["roleRef"], after["roleRef"])) causes.push(invalidValue("roleRef", after["roleRef"], "cannot change roleRef"));
      break;
    case "CustomResourceDefinition":
      if (!jsonEqual(was?.["group"], now?.["group"])) causes.push(immutable("spec.group", now?.["group"]));
      if (!jsonEqual(was?.["scope"], now?.["scope"])) causes.push(immutable("spec.scope", now?.["scope"]));
      break;
  }
  if (causes.length > 0) throw invalid(type, stringField(objectField(after, "metadata"), "name") ?? "", causes);
}
