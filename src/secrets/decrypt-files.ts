import type { Document } from "yaml";
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments } from "yaml";
import type { Problem } from "../core/errors.js";
import { problemAt } from "../core/errors.js";
import type { ManifestFile } from "../render/load-files.js";
import { yamlBoundsProblem } from "../render/yaml-bounds.js";
import type { AgeIdentity } from "./age.js";
import { dearmor, decryptAge, isArmoredAge, parseAgeHeader } from "./age.js";
import type { Replacement } from "./sops.js";
import { decryptSopsDocument, isSopsDocument } from "./sops.js";

/** The manifests with their encrypted values decrypted (or, without a key, checked and stood in for). */
export interface DecryptedFiles {
  readonly files: readonly ManifestFile[];
  /** Per file, the documents that held encrypted values: their objects are secret. */
  readonly secret: ReadonlyMap<string, ReadonlySet<number>>;
  readonly problems: readonly Problem[];
}

const MARKERS = ["ENC[AES256_GCM,", "-----BEGIN AGE ENCRYPTED FILE-----"];

/** True when a file holds something decryption looks at (a SOPS value or an armored age file). */
export function fileHoldsEncryptedContent(file: ManifestFile): boolean {
  return MARKERS.some((m) => file.content.includes(m));
}

/**
 * The decryption step between loading files and rendering them: SOPS
 * documents (a top-level `sops` key, age recipients) and armored age values
 * (`-----BEGIN AGE ENCRYPTED FILE-----` as a string value) are decrypted in
 * memory, in place in the text, so every line keeps its number. With
 * `identities` undefined nothing is decrypted: the structure is checked and
 * typed placeholders stand in (what `ferry validate` does without a key).
 * A file that cannot be decrypted (no key, wrong key, MAC mismatch, damaged)
 * is a problem naming it, and is left out. Pure.
 */
export function decryptManifestFiles(files: readonly ManifestFile[], identities: readonly AgeIdentity[] | undefined): DecryptedFiles {
  const out: ManifestFile[] = [];
  const secret = new Map<string, Set<number>>();
  const problems: Problem[] = [];
  for (const file of files) {
    if (!fileHoldsEncryptedContent(file)) {
      out.push(file);
      continue;
    }
    // A file past the parser's bounds is the renderer's to refuse, by name; the parser's own duplicate-key check is quadratic.
    if (yamlBoundsProblem(file.path, file.content)) {
      out.push(file);
      continue;
    }
    const lineCounter = new LineCounter();
    const docs = parseAllDocuments(file.content, { lineCounter, prettyErrors: false, schema: "core", resolveKnownTags: false, uniqueKeys: false });
    // Syntax errors are the renderer's to report, at their line.
    if (!Array.isArray(docs) || docs.some((d) => d.errors.length > 0)) {
      out.push(file);
      continue;
    }
    const replacements: Replacement[] = [];
    const documents = new Set<number>();
    let failed = false;
    docs.forEach((doc, index) => {
      if (failed) return;
      try {
        const found = isSopsDocument(doc) ? decryptSopsDocument(doc, file.content, identities) : decryptAgeValues(doc, file.content, identities);
        if (found.length > 0) documents.add(index);
        replacements.push(...found);
      } catch (error) {
        failed = true;
        const { line, col } = lineCounter.linePos(doc.range[0]);
        const what = identities ? "cannot decrypt" : "encrypted content is malformed";
        problems.push(problemAt(`${file.path}: ${what}: ${(error as Error).message}`, { file: file.path, line, column: col }));
      }
    });
    if (failed) continue;
    if (documents.size > 0) secret.set(file.path, documents);
    out.push({ ...file, content: applyReplacements(file.content, replacements) });
  }
  return { files: out, secret, problems };
}

/** Armored age values anywhere in a document, each replaced by its plain text on one line, then as many empty lines as it took. */
function decryptAgeValues(doc: Document, source: string, identities: readonly AgeIdentity[] | undefined): Replacement[] {
  const replacements: Replacement[] = [];
  const visit = (node: unknown): void => {
    if (isMap(node)) for (const pair of node.items) visit(pair.value);
    else if (isSeq(node)) for (const item of node.items) visit(item);
    else if (isScalar(node) && typeof node.value === "string" && isArmoredAge(node.value) && node.range) {
      let plain: string;
      if (identities) plain = decryptAge(node.value, identities).toString("utf8");
      else {
        parseAgeHeader(dearmor(node.value));
        plain = "(encrypted)";
      }
      const [start, end] = node.range;
      const lines = (source.slice(start, end).match(/\n/g) ?? []).length;
      replacements.push({ start, end, text: JSON.stringify(plain) + "\n".repeat(lines) });
    }
  };
  visit(doc.contents);
  return replacements;
}

function applyReplacements(source: string, replacements: readonly Replacement[]): string {
  let out = source;
  for (const r of [...replacements].sort((a, b) => b.start - a.start)) out = out.slice(0, r.start) + r.text + out.slice(r.end);
  return out;
}
