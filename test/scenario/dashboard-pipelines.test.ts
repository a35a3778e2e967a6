// The dashboard's pipeline view end to end: a real agent promotes a published
// version dev -> acc, prd waits for approval, and a person approves it from the
// page in headless Chromium (playwright-core).
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { chromium } from "playwright-core";
import { readAgentInfo } from "../../src/agent/state-dir.js";
import { freePort, httpGet, outputOf, scaled, Scenario } from "./harness.js";
import type { Environment } from "./promotion-fixtures.js";
import { digestOf, promotionRepository, publish } from "./promotion-fixtures.js";

/** Debian's Chromium (`apt-get install chromium`); FERRY_CHROMIUM names another. Never downloaded. */
const CHROMIUM = process.env.FERRY_CHROMIUM ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

test("the pipeline view shows environments side by side with versions and gates, and approves prd", { timeout: 300_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) {
    const reason = `no Chromium at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set FERRY_CHROMIUM`;
    console.log(`dashboard pipeline test skipped: ${reason}`);
    t.skip(reason);
    return;
  }
  const s = await Scenario.create();
  t.after(() => s.cleanup());
  const artifacts = join(s.dir, "artifacts");
  const ports = { dev: await freePort(), acc: await freePort(), prd: await freePort() } as Record<Environment, number>;
  await publish(artifacts, "1.0.0");
  await s.commit("web 1.0.0 everywhere", promotionRepository(ports, artifacts, "1.0.0", digestOf(artifacts, "1.0.0")));
  s.startAgent({ interval: "500ms" });
  for (const env of ["dev", "acc", "prd"]) await s.waitForReady(`web-${env}`);
  const info = await readAgentInfo(s.state);
  assert.ok(info?.readToken);
  const readToken = info.readToken;

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
  t.after(() => browser.close());
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  const pageErrors: string[] = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));

  // Read-only first: the pipeline is there, with no button to act.
  await page.goto(`${info.url}/#token=${encodeURIComponent(readToken)}`);
  await page.getByRole("link", { name: "Pipelines" }).click();
  const card = page.locator('[data-pipeline="web"]');
  await card.waitFor({ timeout: 20_000 });
  const versions = async (): Promise<string[]> => card.locator('[data-testid="version"]').allInnerTexts();
  assert.deepEqual(await versions(), ["1.0.0", "1.0.0", "1.0.0"]);
  assert.deepEqual(await card.locator(".environment h3").allInnerTexts(), ["dev web-dev", "acc web-acc", "prd web-prd"]);

  await publish(artifacts, "2.0.0");
  const phase = (env: Environment) => card.locator(`[data-env="${env}"] [data-testid="phase"]`);
  await phase("prd").getByText("AwaitingApproval", { exact: true }).waitFor({ timeout: 120_000 });
  assert.deepEqual(await versions(), ["2.0.0", "2.0.0", "1.0.0"]);
  assert.match(await card.locator('[data-testid="summary"]').innerText(), /prd waits for approval/);
  assert.match(await card.locator('[data-env="dev"] [data-gate="verify"]').innerText(), /passed verify job smoke-dev/);
  assert.equal(await page.getByRole("button", { name: "Approve prd" }).count(), 0, "no approval with the read token");
  const shots = await mkdtemp(join(tmpdir(), "ferry-dashboard-pipelines-"));
  const waiting = join(shots, "pipeline-awaiting-approval.png");
  await page.screenshot({ path: waiting, fullPage: true });
  console.log(`dashboard screenshot: ${waiting}`);

  // The admin token shows the button; approving moves prd to 2.0.0 through Git.
  await page.goto(`${info.url}/#token=${encodeURIComponent(info.token)}`);
  await page.getByRole("link", { name: "Pipelines" }).click();
  await page.getByRole("button", { name: "Approve prd" }).click();
  await card.locator('[data-env="prd"]', { hasText: "approved by the dashboard" }).waitFor({ timeout: 20_000 });
  await phase("prd").getByText("Passed", { exact: true }).waitFor({ timeout: 120_000 });
  assert.deepEqual(await versions(), ["2.0.0", "2.0.0", "2.0.0"]);
  assert.match((await httpGet(ports.prd)) ?? "", /^version=2\.0\.0 env=prd/);
  const done = join(shots, "pipeline-done.png");
  await page.screenshot({ path: done, fullPage: true });
  console.log(`dashboard screenshot: ${done}`);
  const log = await s.ferry("history", "--type", "Approval", "-o", "json");
  assert.match(outputOf(log), /"author": "the dashboard"/);
  // Each environment shows the run of its smoke test that judged 2.0.0.
  assert.match(await card.locator('[data-env="dev"] [data-testid="verification"]').innerText(), /run 2-0-0-[0-9a-f]{6} of smoke-dev: succeeded/);

  // A rollback's hold shows in the environment at once, with how to lift it.
  const rolled = await s.ferry("rollback", "web-prd", "--reason", "checkout is slow");
  assert.equal(rolled.code, 0, outputOf(rolled));
  const hold = card.locator('[data-env="prd"] [data-testid="hold"]');
  await hold.waitFor({ timeout: scaled(5_000) });
  assert.match(await hold.innerText(), /held.*rolled back to 1\.0\.0: checkout is slow; lift it with ferry release web-prd/s);
  assert.match(await card.locator('[data-testid="summary"]').innerText(), /prd is on hold/);
  await page.getByRole("link", { name: "Applications", exact: true }).click();
  await page.locator('[data-app="web-prd"] [data-testid="held"]').waitFor({ timeout: scaled(5_000) });
  assert.match((await page.locator('[data-app="web-prd"] [data-testid="held"]').getAttribute("title")) ?? "", /rolled back to 1\.0\.0: checkout is slow \(ferry release web-prd\)/);
  assert.deepEqual(pageErrors, []);
});
