import type { Manifest } from "./objects.js";

/** The standard label that names the version of what an object runs. */
export const VERSION_LABEL = "app.kubernetes.io/version";
/** Ferry's annotation for the same, where a label does not fit. */
export const VERSION_ANNOTATION = "ferry.dev/version";

/**
 * The artifact versions a set of objects runs, sorted and without repeats:
 * the version label or annotation of each object, and the tags of container
 * images (`repo/app:1.4.2` gives `1.4.2`; a digest-only image gives none).
 * This is what the history answers "which version ran where" with.
 */
export function versionsOf(manifests: Iterable<Manifest>): string[] {
  const versions = new Set<string>();
  for (const manifest of manifests) {
    const label = manifest.metadata.labels?.[VERSION_LABEL] ?? manifest.metadata.annotations?.[VERSION_ANNOTATION];
    if (typeof label === "string" && label !== "") versions.add(label);
    for (const image of imagesOf(manifest)) {
      const tag = imageTag(image);
      if (tag) versions.add(tag);
    }
  }
  return [...versions].sort();
}

/** The tag of an image reference, if it has one: the part after the last `:` that follows the last `/`. */
export function imageTag(image: string): string | undefined {
  const withoutDigest = image.split("@")[0] ?? "";
  const lastSlash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.indexOf(":", lastSlash + 1);
  return colon === -1 ? undefined : withoutDigest.slice(colon + 1) || undefined;
}

/** Images of the pod templates a workload carries (Pod, Deployment, Job, CronJob, ...). */
function imagesOf(manifest: Manifest): string[] {
  const images: string[] = [];
  const spec = asRecord(manifest.spec);
  for (const podSpec of [spec, asRecord(asRecord(spec?.template)?.spec), asRecord(asRecord(asRecord(asRecord(spec?.jobTemplate)?.spec)?.template)?.spec)]) {
    for (const field of ["initContainers", "containers"]) {
      const containers = podSpec?.[field];
      if (!Array.isArray(containers)) continue;
      for (const container of containers) {
        const image = asRecord(container)?.image;
        if (typeof image === "string") images.push(image);
      }
    }
  }
  return images;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
