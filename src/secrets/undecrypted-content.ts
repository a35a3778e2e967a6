import type { Problem } from "../core/errors.js";
import { problemAt } from "../core/errors.js";
import { displayKey } from "../core/ids.js";
import type { JsonValue } from "../core/json.js";
import { escapePointerSegment, isJsonObject } from "../core/json.js";
import type { RenderedObject } from "../core/objects.js";
import { locate } from "../core/objects.js";
import { isArmoredAge } from "./age.js";
import type { RendererName } from "../render/renderer.js";

const WHY: Readonly<Record<RendererName, string>> = {
  plain: "only a document with its sops block, or a whole armored age value, is decrypted",
  overlay: "only a document with its sops block, or a whole armored age value, is decrypted",
  kustomize: "only resources kustomize passes through from SOPS files of the repository, and armored age values, are decrypted (not files a generator encodes)",
  helm: "Ferry does not decrypt Helm chart output (helm-secrets is not supported): keep encrypted Secrets in plain manifests or a kustomization",
};

/**
 * The last check before objects go to a target: an object that still holds a
 * `sops` block, an `ENC[AES256_GCM,...]` value or an armored age file (also
 * inside a Secret's base64 `data`) would put ciphertext where a secret value
 * belongs, so each one is a problem naming the object and the field. Pure.
 */
export function undecryptedContentProblems(objects: readonly RenderedObject[], renderer: RendererName): Problem[] {
  const problems: Problem[] = [];
  for (const object of objects) {
    const field = encryptedField(object);
    if (field === undefined) continue;
    const message = `${displayKey(object.key)} would be applied with encrypted content at ${field === "/sops" ? "its sops block" : field}, not decrypted: ${WHY[renderer]}`;
    problems.push(problemAt(message, locate(object.origin, field), field));
  }
  return problems;
}

/** The JSON pointer of the first field holding encrypted content, or undefined. */
function encryptedField(object: RenderedObject): string | undefined {
  if (Object.hasOwn(object.manifest, "sops")) return "/sops";
  const data = object.manifest.kind === "Secret" ? object.manifest["data"] : undefined;
  if (isJsonObject(data)) {
    for (const [key, value] of Object.entries(data)) {
      if (typeof value === "string" && holdsMarker(Buffer.from(value, "base64").toString("utf8"))) return `/data/${escapePointerSegment(key)}`;
    }
  }
  return findString(object.manifest, "");
}

function findString(value: JsonValue, pointer: string): string | undefined {
  if (typeof value === "string") return holdsMarker(value) ? pointer : undefined;
  if (Array.isArray(value)) {
    for (const [i, item] of (value as readonly JsonValue[]).entries()) {
      const found = findString(item, `${pointer}/${i}`);
      if (found !== undefined) return found;
    }
  } else if (isJsonObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      const found = findString(item, `${pointer}/${escapePointerSegment(key)}`);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** A SOPS value anywhere in the text, or a whole armored age file (what Ferry would have decrypted). */
function holdsMarker(text: string): boolean {
  return text.includes("ENC[AES256_GCM,") || isArmoredAge(text);
}
