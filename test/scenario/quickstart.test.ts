// The first minute of a new user: `ferry quickstart`, then Ctrl-C, then --reset.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createHostTarget } from "../../src/targets/host/host-target.js";
import { BackgroundCommand, freePort, httpGet, isRunning, outputOf, runCli, waitFor } from "./harness.js";

test("ferry quickstart serves the example, stops on Ctrl-C, and --reset removes it from inside its folder", async (t) => {
  const cwd = await mkdtemp(join(tmpdir(), "ferry-quickstart-"));
  const folder = join(cwd, "ferry-quickstart");
  const port = await freePort();
  const quickstart = new BackgroundCommand(["quickstart", "--port", String(port)], cwd);
  t.after(async () => {
    await quickstart.stop();
    if (existsSync(join(folder, ".ferry", "host"))) {
      const host = createHostTarget({ root: join(folder, "live"), stateDir: join(folder, ".ferry", "host") });
      await host.stopAll();
      await host.close();
    }
    await rm(cwd, { recursive: true, force: true });
  });
  const context = { context: () => `--- quickstart output ---\n${quickstart.output}` };

  const url = `http://127.0.0.1:${port}/`;
  await waitFor(`the quickstart to print the service URL ${url}`, () => quickstart.output.includes(`service        ${url}`), context);
  assert.match(quickstart.output, /^web +True +Synced +[0-9a-f]{8} +Healthy/m, "the status table shows web Ready");
  const answer = (await httpGet(port)) ?? "";
  const match = /^Hello from Ferry \(release 1, pid (\d+)\)\n$/.exec(answer);
  assert.ok(match, `the service answers the greeting: ${JSON.stringify(answer)}`);
  const pid = Number(match[1]);
  assert.doesNotMatch(quickstart.output, /pkill|killall/, "the guide never kills by pattern: that matches other people's processes");
  assert.match(quickstart.output, new RegExp(`^ {2}kill ${pid};`, "m"), "the guide kills the service by its pid");

  // The guide links the dashboard with the read token in the fragment; the page is served without it.
  const dashboard = /^ {2}dashboard {6}(http:\/\/127\.0\.0\.1:\d+\/)#token=\S+$/m.exec(quickstart.output);
  assert.ok(dashboard?.[1], "the guide prints the dashboard's address");
  const page = await fetch(dashboard[1]);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<title>Ferry<\/title>/);

  // The guide's next step: `ferry status` from inside the example repository finds the agent.
  const status = await runCli(["status"], { cwd: join(folder, "repo") });
  assert.equal(status.code, 0, outputOf(status));
  assert.match(status.stdout, /^web +True +Synced/m);
  const version = await runCli(["version", "-o", "json"], { cwd: join(folder, "repo") });
  assert.equal(version.code, 0, outputOf(version));
  const versions = JSON.parse(version.stdout) as { client: { version: string }; agent?: { version?: string } };
  assert.equal(versions.agent?.version, versions.client.version, "ferry version asks the running agent for its version");

  quickstart.child.kill("SIGINT");
  const exit = await quickstart.exited;
  assert.deepEqual(exit, { code: 0, signal: null }, quickstart.output);
  assert.match(quickstart.output, /stopping the agent; the service keeps running/);
  assert.equal(await httpGet(port), answer, "the service keeps running without the agent");

  // A folder that is not a quickstart is refused, not removed; nor does a reset from elsewhere "succeed" doing nothing.
  const elsewhere = join(cwd, "elsewhere");
  await mkdir(join(elsewhere, "keep"), { recursive: true });
  for (const args of [["quickstart", "--reset", "keep"], ["quickstart", "--reset"]]) {
    const refused = await runCli(args, { cwd: elsewhere });
    assert.equal(refused.code, 2, outputOf(refused));
    assert.match(refused.stderr, /is not a quickstart .*nothing was removed/);
  }
  assert.equal(existsSync(join(elsewhere, "keep")), true);

  // Where the guide leaves people: inside the example repository.
  const reset = await runCli(["quickstart", "--reset"], { cwd: join(folder, "repo") });
  assert.equal(reset.code, 0, outputOf(reset));
  assert.match(reset.stdout, new RegExp(`stopped the quickstart's services and removed ${folder}\n`));
  assert.equal(existsSync(folder), false, "the folder is removed");
  await waitFor(`the service (pid ${pid}) to be gone`, () => !isRunning(pid), context);
  assert.equal(await httpGet(port), undefined, "nothing answers any more");
});
