import { tmpdir } from "node:os";
import { targetConformance } from "../../../test/support/target-conformance.js";
import { makeObject } from "../../../test/support/target-testing.js";
import { createMemoryTarget, THING } from "./memory-target.js";

targetConformance("memory", async () => {
  const target = createMemoryTarget();
  return {
    target,
    // The memory target reads no files, so any existing directory will do.
    context: { application: "conformance", artifactDirectory: tmpdir() },
    sample: (name, variant) =>
      makeObject({ ...THING, metadata: { name }, spec: { variant, greeting: `hello ${variant}`, nested: { list: [variant] } } }),
    tamper: async (key) => target.tamper(key),
    cleanup: () => target.close(),
  };
});

targetConformance(
  "memory with latency",
  async () => {
    const target = createMemoryTarget({ name: "slow", delayMs: 5 });
    return {
      target,
      context: { application: "conformance", artifactDirectory: tmpdir() },
      sample: (name, variant) => makeObject({ ...THING, metadata: { name, namespace: "team" }, spec: { variant } }),
      tamper: async (key) => target.tamper(key),
      cleanup: () => target.close(),
    };
  },
  { timeoutMs: 5_000 },
);
