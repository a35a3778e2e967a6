import { parentPort } from "node:worker_threads";
import type { ManifestFile } from "./load-files.js";
import { parseManifests } from "./parse-yaml.js";

/** A parse worker: one file in, its documents and problems out (see parse-pool.ts). */
parentPort?.on("message", (file: ManifestFile) => {
  parentPort?.postMessage(parseManifests(file));
});
