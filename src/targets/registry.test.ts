import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { PLANNING_ORDER, TARGETS } from "./registry.js";

const SRC = fileURLToPath(new URL("../../../src/", import.meta.url));

/**
 * Places outside a target's folder that still name one of its kinds, and why.
 * The list may only shrink: an entry that no longer matches fails the test too.
 */
const KNOWN: Readonly<Record<string, readonly string[]>> = {
  // Kustomize's rules for names, labels and references are written per Kubernetes kind, as Kustomize's are.
  "render/overlay-fields.ts": ["Job", "Service", "Namespace", "CustomResourceDefinition", "ConfigMap", "Secret", "ServiceAccount"],
  // An encrypted Secret's data is read as SOPS writes it.
  "secrets/undecrypted-content.ts": ["Secret"],
  // The example in the message for a malformed kind.
  "render/render-plain.ts": ["Service"],
  // A verification Job of a pipeline, the quickstart's Service: objects the user's configuration names.
  "promote/controller.ts": ["Job"],
  "quickstart/quickstart.ts": ["Service"],
  // Repository-wide checks across applications: one path per host File, HealthRules against the repository's CRDs.
  "validate/validate-repository.ts": ["File"],
  "validate/policy-check.ts": ["File"],
  "validate/health-rule-check.ts": ["CustomResourceDefinition"],
  // Installing the agent into a cluster creates its Namespace first.
  "bootstrap/bootstrap.ts": ["Namespace"],
};

/** Every kind a target declares (kind order, own kinds). */
function declaredKinds(): Set<string> {
  return new Set(
    TARGETS.flatMap((target) => [
      ...Object.keys(target.kindOrder.priority),
      ...(target.kindOrder.definitions ?? []),
      ...(target.kindSchemas ?? []).map((k) => k.kind),
    ]),
  );
}

async function sourceFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await sourceFiles(full)));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts")) found.push(full);
  }
  return found;
}

describe("the target registry", () => {
  it("names no target kind outside its target's folder", async () => {
    const kinds = declaredKinds();
    const targetFolders = TARGETS.map((t) => `targets/${t.name}/`);
    const found = new Map<string, Set<string>>();
    for (const file of await sourceFiles(SRC)) {
      const relative = path.relative(SRC, file).split(path.sep).join("/");
      // Inside a target's folder, any target's kind may be named (a Kubernetes Service is not the host's).
      if (targetFolders.some((folder) => relative.startsWith(folder))) continue;
      const text = await readFile(file, "utf8");
      for (const kind of kinds) {
        if (!text.includes(`"${kind}"`)) continue;
        found.set(relative, (found.get(relative) ?? new Set()).add(kind));
      }
    }
    const unexpected = [...found].flatMap(([file, kinds]) => [...kinds].filter((k) => !(KNOWN[file] ?? []).includes(k)).map((k) => `src/${file} names ${k}`));
    assert.deepEqual(unexpected, [], "a target's kinds belong in src/targets/<name>/ and reach the rest through the registry");
    const stale = Object.entries(KNOWN).flatMap(([file, kinds]) => kinds.filter((k) => !found.get(file)?.has(k)).map((k) => `src/${file} no longer names ${k}: drop it from KNOWN`));
    assert.deepEqual(stale, []);
  });

  it("gives each target a unique name and merges their kind orders", () => {
    assert.equal(new Set(TARGETS.map((t) => t.name)).size, TARGETS.length);
    for (const target of TARGETS) {
      for (const [kind, priority] of Object.entries(target.kindOrder.priority)) assert.ok((PLANNING_ORDER.priority[kind] ?? Infinity) <= priority, kind);
      for (const kind of target.kindOrder.definitions ?? []) assert.ok(PLANNING_ORDER.definitions?.includes(kind), kind);
    }
  });
});
