import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stalled } from "../core/errors.js";
import { loadManifestFiles } from "../render/load-files.js";
import { readValues, writeValues } from "./setters.js";

/** One environment's marked values to set. */
export interface Bump {
  readonly pipeline: string;
  readonly environment: string;
  /** The environment's application directory, relative to the repository root. */
  readonly path: string;
  readonly values: Readonly<Record<string, string>>;
  readonly version: string;
  /** The environment the values come from; undefined when a new version enters. */
  readonly from?: string;
}

/**
 * The marked values of a pipeline in a directory of a checkout (every YAML
 * file below it; the first file to mark a field wins for reading).
 */
export async function readDirectoryValues(root: string, path: string, pipeline: string): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  for (const file of await loadManifestFiles(root, path)) {
    for (const [field, value] of Object.entries(readValues(file.content, pipeline))) if (!(field in values)) values[field] = value;
  }
  return values;
}

/**
 * Writes the bumps into the marked values of a checked-out tree, in place,
 * and returns the files changed (relative to `root`). Every field of a bump
 * must be marked somewhere in its directory: a field marked nowhere is an
 * error that names the directory and the marker to add.
 */
export async function applyBumps(root: string, bumps: readonly Bump[]): Promise<string[]> {
  const changed = new Set<string>();
  for (const bump of bumps) {
    const files = await loadManifestFiles(root, bump.path);
    const found = new Set<string>();
    for (const file of files) {
      for (const field of Object.keys(readValues(file.content, bump.pipeline))) found.add(field);
      const result = writeValues(file.content, bump.pipeline, bump.values);
      if (result.changed.length === 0) continue;
      await writeFile(join(root, file.path), result.text);
      changed.add(file.path);
    }
    const missing = Object.keys(bump.values).filter((field) => !found.has(field));
    if (missing.length > 0 && found.size === 0) {
      throw stalled(
        "NoSetter",
        `no value in ${bump.path} is marked for pipeline ${bump.pipeline}: add a comment such as "version: 1.0.0 # ferry:set ${bump.pipeline}:version"`,
      );
    }
  }
  return [...changed].sort();
}

/** The commit message of one batch of bumps: what went where, from where, with trailers for tools. */
export function promotionMessage(bumps: readonly Bump[]): string {
  const [first] = bumps;
  const describe = (b: Bump): string => `${b.pipeline} ${b.version} ${b.from !== undefined ? `from ${b.from} to ${b.environment}` : `into ${b.environment}`}`;
  const subject = bumps.length === 1 && first ? `Promote ${describe(first)}` : `Promote ${bumps.length} versions: ${bumps.map(describe).join("; ")}`;
  const body = bumps.map(
    (b) => `- ${b.path}: ${Object.entries(b.values).map(([field, value]) => `${field}=${value}`).join(", ")}${b.from !== undefined ? ` (as in ${b.from})` : " (new version)"}`,
  );
  const trailers = bumps.flatMap((b) => [
    `Ferry-Promotion-Pipeline: ${b.pipeline}`,
    `Ferry-Promotion-Version: ${b.version}`,
    ...(b.from !== undefined ? [`Ferry-Promotion-From: ${b.from}`] : []),
    `Ferry-Promotion-To: ${b.environment}`,
  ]);
  return [subject, "", ...body, "", ...trailers, ""].join("\n");
}
