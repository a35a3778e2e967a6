// Runs the conformance suite against memory targets that each break one
// promise of the Target interface; conformance-catches-flaws.test.ts runs this
// file and checks that exactly the matching tests fail.
import { tmpdir } from "node:os";
import type { ResourceKey } from "../../src/core/ids.js";
import type { LiveObject, Target } from "../../src/targets/target.js";
import { targetConformance } from "./target-conformance.js";
import { makeObject } from "./target-testing.js";
import type { MemoryTarget } from "../../src/targets/memory/memory-target.js";
import { createMemoryTarget, THING } from "../../src/targets/memory/memory-target.js";

/** Each flaw wraps a working memory target into a broken one. */
const FLAWS: Readonly<Record<string, (t: MemoryTarget) => Target>> = {
  "supports every kind": (t) => ({ ...t, supports: () => true }),
  "finds problems in valid objects": (t) => ({ ...t, validate: () => [{ severity: "error", message: "always wrong" }] }),
  "forgets the owner": (t) => ({
    ...t,
    read: async (keys) => new Map([...(await t.read(keys))].map(([k, v]) => [k, { key: k, state: v.state }])),
  }),
  "describes what it does not apply": (t) => ({
    ...t,
    describe: async (o, c) => ({ ...(await t.describe(o, c)), extra: true }),
  }),
  "never says unchanged": (t) => ({
    ...t,
    apply: async (o, c) => {
      const outcome = await t.apply(o, c);
      return outcome === "unchanged" ? "configured" : outcome;
    },
  }),
  "reads absent keys": (t) => ({
    ...t,
    read: async (keys: readonly ResourceKey[]) =>
      new Map(keys.map((k): [ResourceKey, LiveObject] => [k, t.live.get(k) ?? { key: k, state: {}, owner: "conformance" }])),
  }),
  "fails to delete what is gone": (t) => ({
    ...t,
    delete: async (key, c) => {
      if (!t.live.has(key)) throw new Error("no such object");
      await t.delete(key, c);
    },
  }),
  "never becomes healthy": (t) => ({
    ...t,
    health: async (keys) => new Map([...(await t.health(keys))].map(([k, h]) => [k, h.status === "Healthy" ? { ...h, status: "Progressing" } : h])),
  }),
  "tells no watcher": (t) => ({ ...t, watch: () => () => undefined }),
};

for (const [flaw, breakTarget] of Object.entries(FLAWS)) {
  targetConformance(
    flaw,
    async () => {
      const memory = createMemoryTarget();
      return {
        target: breakTarget(memory),
        context: { application: "conformance", artifactDirectory: tmpdir() },
        sample: (name, variant) => makeObject({ ...THING, metadata: { name }, spec: { variant } }),
        tamper: async (key) => memory.tamper(key),
        cleanup: () => memory.close(),
      };
    },
    // Flaws that keep a condition from ever holding would otherwise wait the full default.
    { timeoutMs: 300 },
  );
}
