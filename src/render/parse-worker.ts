import { parentPort } from "node:worker_threads";
import type { AgeIdentity } from "../secrets/age.js";
import { decryptManifestFiles } from "../secrets/decrypt-files.js";
import type { ManifestFile } from "./load-files.js";
import { parseManifests } from "./parse-yaml.js";

/** What the pool asks a worker (see parse-pool.ts). */
export type WorkerRequest =
  | { readonly kind: "parse"; readonly file: ManifestFile }
  | { readonly kind: "decrypt"; readonly files: readonly ManifestFile[]; readonly identities: readonly AgeIdentity[] | undefined };

/** A parse worker: one file parsed, or a set of files decrypted, per message. */
parentPort?.on("message", (request: WorkerRequest) => {
  parentPort?.postMessage(request.kind === "parse" ? parseManifests(request.file) : decryptManifestFiles(request.files, request.identities));
});
