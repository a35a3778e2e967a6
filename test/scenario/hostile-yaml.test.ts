// No single commit can freeze the agent: while it parses large and
// adversarial YAML (plain manifests and overlay files), its API answers
// within a second, and another application keeps syncing. FERRY_FUZZ_ROUNDS
// runs more rounds (default 3: seconds).
import assert from "node:assert/strict";
import { test } from "node:test";
import { readAgentInfo } from "../../src/agent/state-dir.js";
import { seededRandom } from "../../src/core/seeded-random.js";
import type { ApplicationStatus } from "../../src/engine/status.js";
import { applicationsYaml } from "./fixtures.js";
import { Scenario, scaled } from "./harness.js";

const ROUNDS = Number(process.env.FERRY_FUZZ_ROUNDS ?? 3);
/** The API must answer within this, whatever is being parsed. */
const ANSWER_MS = scaled(1000);

const file = (name: string, content: string): string =>
  `apiVersion: host.ferry.dev/v1\nkind: File\nmetadata:\n  name: ${name}\nspec:\n  path: ${name}.txt\n  content: "${content}"\n`;
const overlay = "apiVersion: ferry.dev/v1\nkind: Overlay\nmetadata:\n  name: hostile\nspec:\n  bases:\n    - ../../base\n";

/** Large and adversarial YAML, each under the 5 MiB file limit; `next` draws the sizes. */
const HOSTILE: readonly ((next: () => number) => string)[] = [
  // A mapping of tens of thousands of keys, one of them twice (quadratic to check with the parser's own check).
  (next) => {
    const n = 30_000 + Math.floor(next() * 10_000);
    return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n${Array.from({ length: n }, (_, i) => `  k${i === n - 1 ? 0 : i}: v`).join("\n")}\n`;
  },
  (next) => "[".repeat(1_000_000 + Math.floor(next() * 3_000_000)),
  (next) => `a:\n${"- ".repeat(200_000 + Math.floor(next() * 200_000))}x\n`,
  (next) => `a: ${"{a: ".repeat(300_000 + Math.floor(next() * 300_000))}`,
  (next) => Array.from({ length: 12_000 + Math.floor(next() * 5_000) }, (_, i) => `---\nk: ${i}`).join("\n"),
  (next) => `a:\n${Array.from({ length: 400 + Math.floor(next() * 400) }, (_, i) => `${" ".repeat(i + 1)}k${i}:`).join("\n")} x\n`,
  () => `a: &a [x, x, x, x, x, x, x, x, x]\n${Array.from({ length: 30 }, (_, i) => `b${i}: &b${i} [${Array(9).fill(i === 0 ? "*a" : `*b${i - 1}`).join(", ")}]`).join("\n")}\n`,
  (next) => {
    const items = Array.from({ length: 20_000 }, (_, i) => `  k${i}: "${"v".repeat(Math.floor(next() * 20))}"`).join("\n");
    const text = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: m\ndata:\n${items}\n`;
    const at = Math.floor(next() * text.length);
    return text.slice(0, at) + ["\0", "[", "'", '"', "{", "\t", ": :"][Math.floor(next() * 7)] + text.slice(at);
  },
];

test("the agent's API answers within a second while it parses hostile YAML, and other applications keep syncing", async (t) => {
  const s = await Scenario.create();
  t.after(() => s.cleanup());
  const files = (round: number): Record<string, string> => ({ "apps/web/file.yaml": file("web-page", `round ${round}`) });
  await s.commit("Add web and hostile", {
    "ferry/applications.yaml": applicationsYaml({ name: "web" }, { name: "hostile" }, { name: "shaped", path: "apps/shaped/envs/prd" }),
    "apps/hostile/ok.yaml": file("hostile-page", "fine"),
    "apps/shaped/base/ok.yaml": file("shaped-page", "fine"),
    "apps/shaped/envs/prd/ferry-overlay.yaml": overlay,
    ...files(0),
  });
  s.startAgent();
  await s.waitForReady("web");
  const info = await s.waitFor("agent.json", () => readAgentInfo(s.state));
  const api = async (path: string): Promise<{ ms: number; body: unknown }> => {
    const started = performance.now();
    const response = await fetch(`${info.url}${path}`, { headers: { authorization: `Bearer ${info.token}` }, signal: AbortSignal.timeout(scaled(30_000)) });
    const body: unknown = await response.json();
    return { ms: performance.now() - started, body };
  };

  // Ask the API all along, as a dashboard would.
  let probing = true;
  let slowest = 0;
  let answers = 0;
  const probe = (async () => {
    while (probing) {
      const { ms } = await api("/api/v1/applications/web");
      slowest = Math.max(slowest, ms);
      answers++;
      if (ms > ANSWER_MS) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  t.after(() => {
    probing = false;
  });
  const status = async (name: string): Promise<ApplicationStatus> => (await api(`/api/v1/applications/${name}`)).body as ApplicationStatus;

  const next = seededRandom(13);
  for (let round = 1; round <= ROUNDS; round++) {
    const kind = round === 1 ? 0 : Math.floor(next() * HOSTILE.length);
    const content = (HOSTILE[kind] ?? (() => ""))(next);
    assert.ok(content.length < 5 * 1024 * 1024);
    // Odd rounds feed the overlay parser (the overlay file itself), even ones the plain one.
    const hostile: Record<string, string> = round % 2 === 1 ? { "apps/shaped/envs/prd/ferry-overlay.yaml": `${overlay}${content}` } : { "apps/hostile/big.yaml": content };
    const revision = await s.commit(`Round ${round}: hostile input ${kind}`, { ...files(round), ...hostile });
    const name = round % 2 === 1 ? "shaped" : "hostile";
    const outcome = await s.waitFor(
      `round ${round} (input ${kind}): web synced and ${name} judged while the API answers`,
      async () => {
        if (slowest > ANSWER_MS) return "slow";
        const [web, judged] = [await status("web"), await status(name)];
        const seen = judged.lastAttemptedRevision === revision || judged.sync.revision === revision;
        return web.sync.revision === revision && seen ? "judged" : undefined;
      },
      () => `slowest answer ${Math.round(slowest)} ms`,
      scaled(120_000),
    );
    assert.equal(outcome, "judged", `the API took ${Math.round(slowest)} ms to answer during round ${round} (input ${kind})`);
    // Restore a sane tree for the next round.
    await s.commit(`Round ${round}: clean up`, { "apps/hostile/big.yaml": null, "apps/shaped/envs/prd/ferry-overlay.yaml": overlay });
  }
  probing = false;
  await probe;
  assert.ok(answers > ROUNDS, `the API was asked all along (${answers} answers)`);
  assert.ok(slowest <= ANSWER_MS, `slowest answer ${Math.round(slowest)} ms`);
});
