// The web dashboard end to end: a real `ferry agent` on a real Git repository,
// and the page in headless Chromium driven by playwright-core.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { Browser } from "playwright-core";
import { chromium } from "playwright-core";
import { readAgentInfo } from "../../src/agent/state-dir.js";
import { applicationYaml, serviceApp } from "./fixtures.js";
import { freePort, Scenario } from "./harness.js";

/** Debian's Chromium (`apt-get install chromium`); FERRY_CHROMIUM names another. Never downloaded. */
const CHROMIUM = process.env.FERRY_CHROMIUM ?? "/usr/bin/chromium";

/** The flags a closed, rootful CI machine needs: no sandbox, no calls home. */
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/** Chromium with a fresh, empty profile (playwright gives each launch its own temporary user data directory). */
function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
}


describe("dashboard", () => {
  test("shows the applications live, one application's objects, and asks for a token when it has none", async (t) => {
    if (!existsSync(CHROMIUM)) {
      const reason = `no Chromium at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set FERRY_CHROMIUM`;
      console.log(`dashboard end-to-end test skipped: ${reason}`);
      t.skip(reason);
      return;
    }
    const s = await Scenario.create();
    t.after(() => s.cleanup());
    const port = await freePort();
    const first = await s.commit("Add the web application", {
      "ferry/applications.yaml": applicationYaml({ name: "web", environment: "prd", selfHeal: false, interval: "500ms" }),
      ...serviceApp({ name: "web", port, greeting: "hello", version: "1.0.0" }),
    });
    const agent = s.startAgent();
    await s.waitForReady("web", first);
    const url = await s.waitFor("the dashboard address in the agent's output", () => /dashboard \(read-only\): (\S+)/.exec(agent.output)?.[1]);
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/#token=/);
    const info = await readAgentInfo(s.state);
    assert.ok(info?.readToken && url.endsWith(encodeURIComponent(info.readToken)), "the address carries the read token, not the admin token");

    const browser = await launch();
    t.after(() => browser.close());
    const pageErrors: string[] = [];
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.on("pageerror", (error) => pageErrors.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error") pageErrors.push(message.text());
    });

    await page.goto(url);
    const row = page.locator('tr[data-app="web"]');
    await row.waitFor({ timeout: 20_000 });
    // Locators, not page functions: the dashboard's content policy forbids evaluating strings.
    await page.locator('tr[data-app="web"]', { hasText: "Healthy" }).waitFor({ timeout: 20_000 });
    const cells = await row.locator("td").allInnerTexts();
    assert.deepEqual(cells.slice(0, 8), ["web", "Ready", "Synced", first.slice(0, 8), "Healthy", "0", "prd", "1.0.0"]);
    assert.equal(new URL(page.url()).hash, "#/", "the token leaves the address bar once read");
    assert.equal(await page.locator("#scope").innerText(), "read-only token");
    assert.equal(await page.getByRole("button", { name: "Refresh" }).count(), 0, "no actions with the read token");

    // The application's page follows only its own events, filtered by the agent.
    const followed = page.waitForRequest((r) => r.url().endsWith("/api/v1/events?application=web"), { timeout: 20_000 });
    await row.getByRole("link", { name: "web" }).click();
    await followed;
    const objects = page.locator('[data-testid="objects"]');
    await objects.waitFor({ timeout: 20_000 });
    const tree = await objects.innerText();
    assert.match(tree, /File\s+2/);
    assert.match(tree, /Service\s+1/);
    assert.match(tree, /Healthy\s+web\b/);
    assert.equal(await page.locator('[data-testid="revision"]').innerText(), first.slice(0, 8));
    assert.match(await page.locator(".app-header").innerText(), /Environment\s+prd/);
    assert.equal(await page.getByRole("button", { name: "Sync now" }).count(), 0, "no sync button with the read token");
    await page.locator("#live.live").waitFor({ timeout: 10_000 });

    // A commit shows up through the event stream: the page is never reloaded.
    let loads = 0;
    page.on("load", () => loads++);
    const second = await s.commit("Release 2.0.0", serviceApp({ name: "web", port, greeting: "hello again", version: "2.0.0" }));
    await page.locator('[data-testid="revision"]', { hasText: second.slice(0, 8) }).waitFor({ timeout: 30_000 });
    await page.locator('[data-testid="timeline"]', { hasText: "2.0.0" }).waitFor({ timeout: 20_000 });
    assert.equal(loads, 0, "the page was not reloaded");
    await page.getByText("Release 2.0.0").first().waitFor();

    // A file edited by hand: the drift and a readable diff appear, still without a reload.
    await writeFile(join(s.root, "web", "config.json"), '{ "greeting": "edited by hand" }\n');
    await page.locator(".diff-object.change", { hasText: "File/web-config" }).waitFor({ timeout: 30_000 });
    // The host target compares a file's digest, never its content (which may be secret).
    // A changed File reads as a unified diff of its content, not two digests.
    assert.match(await page.locator(".diff-object.change").innerText(), /~ File\/web-config[\s\S]*content[\s\S]*@@ -1,1 \+1,1 @@/);
    assert.match(await page.locator(".diff-object.change pre.unified-diff .diff-del").innerText(), /^-\{ "greeting": "edited by hand" \}/);
    assert.match(await page.locator(".diff-object.change pre.unified-diff .diff-add").innerText(), /^\+\{ "greeting": "hello again" \}/);
    assert.doesNotMatch(await page.locator(".diff-object.change").innerText(), /[0-9a-f]{64}/);
    await page.locator(".drift-list", { hasText: "File/web-config" }).waitFor({ timeout: 10_000 });
    assert.equal(loads, 0, "the page was not reloaded");

    const shots = await mkdtemp(join(tmpdir(), "ferry-dashboard-"));
    const shot = join(shots, "application.png");
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`dashboard screenshot: ${shot}`);
    await page.goto(new URL("/#/", url).href);
    await page.locator('tr[data-app="web"]', { hasText: second.slice(0, 8) }).waitFor({ timeout: 20_000 });
    const listShot = join(shots, "applications.png");
    await page.screenshot({ path: listShot, fullPage: true });
    console.log(`dashboard screenshot: ${listShot}`);

    await page.getByRole("link", { name: "Deployments" }).click();
    await page.locator("table.deployments tr", { hasText: "2.0.0" }).waitFor({ timeout: 20_000 });
    assert.match(await page.locator("table.deployments").innerText(), /web\s+prd\s+2\.0\.0[\s\S]*running[\s\S]*web\s+prd\s+1\.0\.0/);
    const deploymentsShot = join(shots, "deployments.png");
    await page.screenshot({ path: deploymentsShot, fullPage: true });
    console.log(`dashboard screenshot: ${deploymentsShot}`);

    // A new tab without the token: the form, then the admin token shows the actions.
    const fresh = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await fresh.goto(new URL("/", url).href);
    await fresh.getByRole("heading", { name: "Paste a token" }).waitFor({ timeout: 20_000 });
    assert.match(await fresh.locator("form").innerText(), /<state-dir>\/agent\.json/);
    const formShot = join(shots, "token-form.png");
    await fresh.screenshot({ path: formShot });
    console.log(`dashboard screenshot: ${formShot}`);
    await fresh.getByLabel("token").fill("not-the-token");
    await fresh.getByRole("button", { name: "Open the dashboard" }).click();
    await fresh.getByText("The agent refused this token").waitFor({ timeout: 20_000 });
    await fresh.getByLabel("token").fill(info.token);
    await fresh.getByRole("button", { name: "Open the dashboard" }).click();
    await fresh.locator('tr[data-app="web"]').waitFor({ timeout: 20_000 });
    assert.equal(await fresh.locator("#scope").innerText(), "admin token");
    await fresh.getByRole("button", { name: "Refresh" }).waitFor();
    await fresh.locator('tr[data-app="web"]').getByRole("link", { name: "web" }).click();
    await fresh.getByRole("button", { name: "Sync now" }).waitFor({ timeout: 20_000 });

    // Suspend from the page (a prompt asks why), see it in the list, resume.
    fresh.once("dialog", (dialog) => void dialog.accept("freeze for the audit"));
    await fresh.getByRole("button", { name: "Suspend" }).click();
    await fresh.getByRole("button", { name: "Resume" }).waitFor({ timeout: 20_000 });
    await fresh.locator(".app-header .badge", { hasText: "suspended" }).waitFor({ timeout: 20_000 });
    assert.equal(await fresh.getByRole("button", { name: "Sync now" }).isDisabled(), true, "no sync while suspended");
    await fresh.getByRole("link", { name: "← All applications" }).click();
    const listed = fresh.locator('tr[data-app="web"] [data-testid="suspended"]');
    await listed.waitFor({ timeout: 20_000 });
    assert.match((await listed.getAttribute("title")) ?? "", /suspended by dashboard at .*: freeze for the audit/);
    await fresh.locator('tr[data-app="web"]').getByRole("link", { name: "web" }).click();
    await fresh.getByRole("button", { name: "Resume" }).click();
    await fresh.getByRole("button", { name: "Suspend" }).waitFor({ timeout: 20_000 });
    await fresh.locator(".app-header .badge", { hasText: "suspended" }).waitFor({ state: "detached", timeout: 20_000 });

    // Roll back from the page (a confirmation first): the application is held until released here.
    assert.equal(await fresh.locator('[data-testid="hold"] .badge').count(), 0, "no hold before the rollback");
    fresh.once("dialog", (dialog) => void dialog.accept());
    await fresh.getByLabel("rollback reason").fill("2.0.0 breaks the audit");
    await fresh.getByRole("button", { name: "Roll back" }).click();
    await fresh.locator('[data-testid="hold"]', { hasText: "2.0.0 breaks the audit" }).waitFor({ timeout: 30_000 });
    assert.match(await fresh.locator('[data-testid="hold"]').innerText(), /held\s+by Ferry: rolled back to 1\.0\.0: 2\.0\.0 breaks the audit\. Automatic promotion leaves web where it is until the hold is released \(ferry release web\)/);
    await page.goto(new URL("/#/", url).href);
    await page.locator('tr[data-app="web"]').getByRole("link", { name: "web" }).click();
    await page.locator('[data-testid="hold"]', { hasText: "2.0.0 breaks the audit" }).waitFor({ timeout: 20_000 });
    assert.equal(await page.getByRole("button", { name: "Release hold" }).count(), 0, "the read-only page shows the hold, without a release button");
    await fresh.getByRole("button", { name: "Release hold" }).click();
    await fresh.locator('[data-testid="hold"] .badge').waitFor({ state: "detached", timeout: 20_000 });
    const holds = JSON.parse((await s.ferry("history", "web", "--type", "Release", "-o", "json")).stdout) as { items: unknown[] };
    assert.equal(holds.items.length, 1, "the release is in the history");

    assert.deepEqual(pageErrors.filter((e) => !/401 \(Unauthorized\)/.test(e)), [], "no errors in the page");
  });
});
