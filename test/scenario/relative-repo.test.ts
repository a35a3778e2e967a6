// A relative source.repoURL names a repository beside the configuration's, as
// git resolves relative submodule URLs, whatever directory the agent runs in.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { test } from "node:test";
import { outputOf, runCli, Scenario } from "./harness.js";

const git = promisify(execFile);
const IDENTITY = ["-c", "user.name=Ferry Test", "-c", "user.email=test@ferry.invalid"];

test("source.repoURL ../apps is the repository beside the configuration repository, not beside the agent's directory; diff takes --kubeconfig for itself", async (t) => {
  const s = await Scenario.create();
  t.after(() => s.cleanup());
  // <dir>/apps beside <dir>/repo; the agent runs in <dir>/work/here, where ../apps does not exist.
  const apps = join(s.dir, "apps");
  await mkdir(join(apps, "web"), { recursive: true });
  await writeFile(join(apps, "web", "motd.yaml"), "apiVersion: host.ferry.dev/v1\nkind: File\nmetadata:\n  name: motd\nspec:\n  path: motd.txt\n  content: from the apps repository\n");
  await git("git", ["init", "-q", "-b", "main"], { cwd: apps });
  await git("git", ["add", "-A"], { cwd: apps });
  await git("git", [...IDENTITY, "commit", "-q", "-m", "web"], { cwd: apps });
  await s.commit("Add web", {
    "ferry/web.yaml": "apiVersion: ferry.dev/v1\nkind: Application\nmetadata:\n  name: web\nspec:\n  source:\n    path: web\n    repoURL: ../apps\n",
  });
  const work = join(s.dir, "work", "here");
  await mkdir(work, { recursive: true });
  const once = await runCli(s.agentArgs({ once: true }), { cwd: work });
  assert.equal(once.code, 0, outputOf(once));
  assert.equal(await readFile(join(s.root, "motd.txt"), "utf8"), "from the apps repository");

  // With no agent running, diff starts one on the saved settings; --kubeconfig replaces the saved cluster for this command only.
  const missing = join(s.dir, "no-such-kubeconfig");
  const diff = await s.ferry("diff", "--kubeconfig", missing, "--context", "prod");
  assert.equal(diff.code, 2, outputOf(diff));
  assert.match(diff.stderr, /--kubeconfig: no such file/);
  assert.doesNotMatch(await readFile(join(s.state, "settings.json"), "utf8"), /kubeconfig|prod/, "the next agent keeps the saved settings");
  const again = await s.ferry("diff");
  assert.equal(again.code, 0, outputOf(again));
  assert.match(again.stdout, /^web: in sync$/m);
});
