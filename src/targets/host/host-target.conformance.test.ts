import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { ResourceKey } from "../../core/ids.js";
import { parseResourceKey } from "../../core/ids.js";
import type { ConformanceHarness } from "../../../test/support/target-conformance.js";
import { targetConformance } from "../../../test/support/target-conformance.js";
import { createSandbox, hostObject } from "../../../test/support/host-test-support.js";
import type { ServiceRecord } from "./service-state.js";

/** Files: variant 0 has inline content, variant 1 takes it from the repository; tamper edits the file. */
async function fileHarness(): Promise<ConformanceHarness> {
  const sandbox = await createSandbox();
  await writeFile(path.join(sandbox.artifact, "motd.txt"), "welcome from the repository\n");
  const target = sandbox.target();
  return {
    target,
    context: sandbox.context,
    sample: (name, variant) =>
      hostObject(
        "File",
        name,
        variant === 0 ? { path: `${name}.txt`, content: `hello ${name}\n` } : { path: `${name}.txt`, contentFrom: "motd.txt", mode: "0600" },
        "host.yaml",
      ),
    async tamper(key: ResourceKey) {
      const { name } = parseResourceKey(key);
      await writeFile(path.join(sandbox.root, `${name}.txt`), "edited by hand\n");
    },
    cleanup: () => sandbox.cleanup(),
  };
}

/** Services that are not restarted, so a killed one stays down as drift; tamper kills the process. */
async function serviceHarness(): Promise<ConformanceHarness> {
  const sandbox = await createSandbox();
  const target = sandbox.target();
  return {
    target,
    context: sandbox.context,
    sample: (name, variant) =>
      hostObject("Service", name, {
        command: process.execPath,
        args: ["-e", "setInterval(() => {}, 1000)", `variant-${variant}`],
        restart: { policy: "never" },
      }),
    async tamper(key: ResourceKey) {
      const { name } = parseResourceKey(key);
      const record = JSON.parse(await readFile(path.join(sandbox.stateDir, "records/service", `${name}.json`), "utf8")) as ServiceRecord;
      process.kill(record.pid, "SIGKILL");
    },
    cleanup: () => sandbox.cleanup(),
  };
}

targetConformance("host (files)", fileHarness);
targetConformance("host (services)", serviceHarness);
