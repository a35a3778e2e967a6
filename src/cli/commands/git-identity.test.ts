// Who runs a command, as git decides it for a commit: the GIT_AUTHOR_* and
// GIT_COMMITTER_* variables before git config, as `git commit` would.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gitIdentity } from "./rollback.js";

const VARIABLES = ["GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL", "HOME", "XDG_CONFIG_HOME", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM"];

describe("gitIdentity", () => {
  let home: string;
  const saved = new Map(VARIABLES.map((name) => [name, process.env[name]]));
  before(async () => {
    home = await mkdtemp(join(tmpdir(), "ferry-identity-"));
    await writeFile(join(home, ".gitconfig"), "[user]\n\tname = Config Person\n\temail = config@example.test\n");
    for (const name of VARIABLES) delete process.env[name];
    process.env["HOME"] = home;
    process.env["GIT_CONFIG_NOSYSTEM"] = "1";
  });
  after(async () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await rm(home, { recursive: true, force: true });
  });

  it("takes git config when no variable says otherwise", async () => {
    assert.deepEqual(await gitIdentity(), { name: "Config Person", email: "config@example.test" });
  });

  it("takes GIT_AUTHOR_NAME and GIT_AUTHOR_EMAIL before git config, and the committer variables for the committer", async () => {
    process.env["GIT_AUTHOR_NAME"] = "Ada Operator";
    process.env["GIT_AUTHOR_EMAIL"] = "ada@example.test";
    try {
      // The committer is still git config's person: git would write it so.
      assert.deepEqual(await gitIdentity(), { name: "Ada Operator", email: "ada@example.test", committer: { name: "Config Person", email: "config@example.test" } });
      process.env["GIT_COMMITTER_NAME"] = "Ada Operator";
      process.env["GIT_COMMITTER_EMAIL"] = "ada@example.test";
      assert.deepEqual(await gitIdentity(), { name: "Ada Operator", email: "ada@example.test" });
    } finally {
      for (const name of ["GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"]) delete process.env[name];
    }
  });
});
