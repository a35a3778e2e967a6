import { createHash } from "node:crypto";
import { stalled, transient } from "../../core/errors.js";
import type { JsonObject, JsonValue } from "../../core/json.js";
import { isJsonObject } from "../../core/json.js";
import type { RenderedObject } from "../../core/objects.js";
import type { JobRun, JobRunRequest } from "../target.js";
import type { KubeClient, ResourceType } from "./kube-client.js";
import { KubeClient as Client, statusMessage } from "./kube-client.js";

/** Label on a Job run for a verification: the name of the Job it is a run of. */
export const RUN_OF_LABEL = "ferry.dev/run-of";
/** Label on a Job run: its run id. */
export const RUN_ID_LABEL = "ferry.dev/run";
/** Annotation on a Job run: the application whose Job it runs. */
export const RUN_APPLICATION_ANNOTATION = "ferry.dev/application";
/** Annotation on a Job run: when it was asked for (ISO, milliseconds), which orders runs created within one second. */
export const RUN_STARTED_ANNOTATION = "ferry.dev/run-started";
/** How many runs of one Job are kept in the cluster; older ones are deleted with their pods. */
export const KEPT_RUNS = 5;

/** Labels the Job controller sets on a Job's template itself; a copy must not carry the original's. */
const CONTROLLER_LABELS = ["controller-uid", "batch.kubernetes.io/controller-uid", "job-name", "batch.kubernetes.io/job-name"];

/** Why a declared object cannot be run again as a new Job, or undefined when it can. Pure. */
export function kubernetesRunnable(object: RenderedObject): string | undefined {
  if (object.manifest.apiVersion === "batch/v1" && object.manifest.kind === "Job") return undefined;
  return `a ${object.manifest.kind} of ${object.manifest.apiVersion} is not a batch/v1 Job: only a Job is run once more for each version`;
}

/**
 * The name of one run of a Job: `<job>-<id>`, the Job's name cut so the
 * whole stays within 63 characters (a Job's name becomes a label value of
 * its pods), with a hash of the full name where it was cut. Pure.
 */
export function runJobName(job: string, id: string): string {
  const full = `${job}-${id}`;
  if (full.length <= 63) return full;
  const hash = createHash("sha256").update(full).digest("hex").slice(0, 6);
  return `${job.slice(0, 63 - id.length - hash.length - 2).replace(/-+$/, "")}-${hash}-${id}`;
}

/**
 * The manifest of one run: the declared Job under the run's name, labelled
 * with the Job it runs and the run id, its selector and the controller's
 * template labels left to the server (a Job's template cannot change, so each
 * run is a new Job), no TTL (runs are kept by count), and the request's
 * variables in every container. Pure.
 */
export function runManifest(object: RenderedObject, namespace: string, application: string, request: JobRunRequest): JsonObject {
  const manifest = object.manifest as unknown as JsonObject;
  const metadata = (manifest["metadata"] ?? {}) as JsonObject;
  const spec = { ...((manifest["spec"] ?? {}) as JsonObject) };
  delete spec["selector"];
  delete spec["manualSelector"];
  // Runs are kept and removed by count (KEPT_RUNS): one deleted by its TTL would read as lost and be run again.
  delete spec["ttlSecondsAfterFinished"];
  const template = { ...((spec["template"] ?? {}) as JsonObject) };
  const templateMetadata = { ...((template["metadata"] ?? {}) as JsonObject) };
  const templateLabels = { ...((templateMetadata["labels"] ?? {}) as JsonObject) };
  for (const label of CONTROLLER_LABELS) delete templateLabels[label];
  templateMetadata["labels"] = { ...templateLabels, [RUN_OF_LABEL]: object.manifest.metadata.name, [RUN_ID_LABEL]: request.id };
  const podSpec = { ...((template["spec"] ?? {}) as JsonObject) };
  for (const field of ["containers", "initContainers"]) {
    const containers = podSpec[field];
    if (Array.isArray(containers)) podSpec[field] = containers.map((c) => (isJsonObject(c) ? withEnv(c, request.env) : c));
  }
  spec["template"] = { ...template, metadata: templateMetadata, spec: podSpec };
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name: runJobName(object.manifest.metadata.name, request.id),
      namespace,
      labels: { ...((metadata["labels"] ?? {}) as JsonObject), [RUN_OF_LABEL]: object.manifest.metadata.name, [RUN_ID_LABEL]: request.id },
      annotations: { ...((metadata["annotations"] ?? {}) as JsonObject), [RUN_APPLICATION_ANNOTATION]: application, [RUN_STARTED_ANNOTATION]: new Date().toISOString() },
    },
    spec,
  };
}

function withEnv(container: JsonObject, env: Readonly<Record<string, string>>): JsonObject {
  const names = new Set(Object.keys(env));
  const declared = Array.isArray(container["env"]) ? container["env"].filter((e) => !(isJsonObject(e) && typeof e["name"] === "string" && names.has(e["name"]))) : [];
  return { ...container, env: [...declared, ...Object.entries(env).map(([name, value]) => ({ name, value }))] };
}

/** A run as its Job in the cluster says. Pure. */
export function runOf(job: JsonObject, id: string): JobRun {
  const metadata = (job["metadata"] ?? {}) as JsonObject;
  const status = (job["status"] ?? {}) as JsonObject;
  const conditions = Array.isArray(status["conditions"]) ? status["conditions"].filter(isJsonObject) : [];
  const holds = (type: string): JsonObject | undefined => conditions.find((c) => c["type"] === type && c["status"] === "True");
  const name = String(metadata["name"] ?? "");
  const startedAt = String(status["startTime"] ?? metadata["creationTimestamp"] ?? "");
  const failed = holds("Failed");
  const complete = holds("Complete");
  const finishedAt = typeof status["completionTime"] === "string" ? status["completionTime"] : typeof failed?.["lastTransitionTime"] === "string" ? failed["lastTransitionTime"] : undefined;
  const base = { id, name, startedAt, ...(finishedAt !== undefined ? { finishedAt } : {}) };
  if (failed) return { ...base, status: "failed", message: `job ${name} failed: ${String(failed["reason"] ?? "Failed")}${failed["message"] ? `: ${String(failed["message"])}` : ""}` };
  if (complete) return { ...base, status: "succeeded", message: `job ${name} completed` };
  return { ...base, status: "running", message: `job ${name} is running` };
}

/** Starts (or finds) the run `request.id` of a declared Job as a new Job, and deletes the oldest runs beyond KEPT_RUNS. */
export async function startJobRun(client: KubeClient, type: ResourceType, object: RenderedObject, application: string, request: JobRunRequest): Promise<JobRun> {
  const namespace = object.manifest.metadata.namespace ?? "default";
  const manifest = runManifest(object, namespace, application, request);
  const res = await client.request({ method: "POST", path: Client.pathOf(type, namespace), query: { fieldManager: "ferry" }, body: manifest });
  let created: JsonValue | undefined = res.body;
  if (res.status === 409) {
    const found = await client.request({ method: "GET", path: Client.pathOf(type, namespace, String((manifest["metadata"] as JsonObject)["name"])) });
    created = found.body;
  } else if (res.status >= 300) {
    const reason = res.status === 422 || res.status === 400 ? stalled : transient;
    throw reason("JobRunFailed", `creating a run of job ${namespace}/${object.manifest.metadata.name} answered ${res.status}: ${statusMessage(res.body)}`);
  }
  if (!isJsonObject(created)) throw transient("JobRunFailed", `the run of job ${namespace}/${object.manifest.metadata.name} could not be read back`);
  await pruneRuns(client, type, namespace, object.manifest.metadata.name, application);
  return runOf(created, request.id);
}

/** The run `id` of the Job `namespace/job`, as the cluster has it; undefined when it is not there. */
export async function readJobRun(client: KubeClient, type: ResourceType, namespace: string, job: string, id: string): Promise<JobRun | undefined> {
  const res = await client.request({ method: "GET", path: Client.pathOf(type, namespace, runJobName(job, id)) });
  if (res.status === 404) return undefined;
  if (res.status >= 300 || !isJsonObject(res.body)) throw transient("ApiServerError", `reading run ${id} of job ${namespace}/${job} answered ${res.status}: ${statusMessage(res.body)}`);
  return runOf(res.body, id);
}

/** Deletes the runs of one Job beyond the newest KEPT_RUNS (only runs this application made), with their pods. */
async function pruneRuns(client: KubeClient, type: ResourceType, namespace: string, job: string, application: string): Promise<void> {
  const res = await client.request({ method: "GET", path: Client.pathOf(type, namespace), query: { labelSelector: `${RUN_OF_LABEL}=${job}` } });
  if (res.status >= 300 || !isJsonObject(res.body) || !Array.isArray(res.body["items"])) return;
  const runs = res.body["items"]
    .filter(isJsonObject)
    .map((item) => (item["metadata"] ?? {}) as JsonObject)
    .filter((m) => annotation(m, RUN_APPLICATION_ANNOTATION) === application)
    .sort((a, b) => annotation(b, RUN_STARTED_ANNOTATION).localeCompare(annotation(a, RUN_STARTED_ANNOTATION)));
  for (const old of runs.slice(KEPT_RUNS)) {
    await client.request({ method: "DELETE", path: Client.pathOf(type, namespace, String(old["name"])), query: { propagationPolicy: "Background" } });
  }
}

function annotation(metadata: JsonObject, name: string): string {
  const value = ((metadata["annotations"] ?? {}) as JsonObject)[name];
  return typeof value === "string" ? value : "";
}
