// What a `ferry` command costs before it does anything: the CPU time (user +
// system) of `ferry --version`, `ferry status` (no agent running, an empty
// state directory) and `ferry --help`, next to a bare `node -e 0`, each the
// median of a few runs. The CLI loads only the module of the command it runs;
// the aim is under 150 ms of CPU over bare node.
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { median } from "./measure.js";

const ROUNDS = Number(process.env["ROUNDS"] ?? 9);
const AIM_MS = 150;
const MAIN = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));

/** Preloaded into the child: writes its own CPU time, in microseconds, to the file named in FERRY_BENCH_CPU_FILE when it exits. */
const REPORT_CPU =
  "data:text/javascript," +
  encodeURIComponent(
    'import { writeFileSync } from "node:fs"; process.on("exit", () => { const u = process.cpuUsage(); writeFileSync(process.env.FERRY_BENCH_CPU_FILE, String(u.user + u.system)); });',
  );

/** CPU milliseconds of one run of `node <args>`. */
async function cpuOf(args: readonly string[], env: NodeJS.ProcessEnv, scratch: string): Promise<number> {
  const file = join(scratch, "cpu");
  const child = spawnSync(process.execPath, ["--import", REPORT_CPU, ...args], { env: { ...env, FERRY_BENCH_CPU_FILE: file }, stdio: "ignore" });
  if (child.error) throw child.error;
  return Number(await readFile(file, "utf8")) / 1000;
}

async function main(): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), "ferry-bench-startup-"));
  try {
    const env = { ...process.env, FERRY_STATE_DIR: join(scratch, "state"), NO_COLOR: "1" };
    const cases: readonly [string, readonly string[]][] = [
      ["node -e 0", ["-e", "0"]],
      ["ferry --version", [MAIN, "--version"]],
      ["ferry status", [MAIN, "status"]],
      ["ferry --help", [MAIN, "--help"]],
    ];
    const results = new Map<string, number>();
    for (const [name, args] of cases) {
      const samples: number[] = [];
      for (let i = 0; i < ROUNDS; i++) samples.push(await cpuOf(args, env, scratch));
      results.set(name, median(samples));
    }
    const bare = results.get("node -e 0") ?? 0;
    console.log(`start-up CPU time (user + system), median of ${ROUNDS} runs:`);
    let over = false;
    for (const [name, ms] of results) {
      const extra = name === "node -e 0" ? "" : `  (+${(ms - bare).toFixed(0)} ms over bare node)`;
      if (name !== "node -e 0" && name !== "ferry --help" && ms - bare > AIM_MS) over = true;
      console.log(`  ${name.padEnd(16)} ${ms.toFixed(0).padStart(5)} ms${extra}`);
    }
    console.log(over ? `above the aim of ${AIM_MS} ms over bare node` : `within the aim of ${AIM_MS} ms over bare node`);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
