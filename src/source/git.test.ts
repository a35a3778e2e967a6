import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { FerryError } from "../core/errors.js";
import { execGit, gitEnvironment, runGit } from "./git.js";
import { TestRepository } from "../../test/support/test-repository.js";

describe("git runner", () => {
  let repo: TestRepository;
  let scratch: string;

  before(async () => {
    repo = await TestRepository.create();
    await repo.commit({ "a.txt": "a\n" }, "first");
    scratch = await mkdtemp(join(tmpdir(), "ferry-git-"));
  });
  after(async () => {
    await repo.remove();
    await rm(scratch, { recursive: true, force: true });
  });

  it("returns standard output", async () => {
    assert.equal((await runGit(["rev-parse", "--abbrev-ref", "HEAD"], { cwd: repo.directory })).trim(), "main");
  });

  it("drops inherited variables that point git at another repository", () => {
    const env = gitEnvironment({ PATH: "/bin", GIT_DIR: "/elsewhere/.git", GIT_WORK_TREE: "/elsewhere", GIT_INDEX_FILE: "/x" });
    assert.equal(env.GIT_DIR, undefined);
    assert.equal(env.GIT_WORK_TREE, undefined);
    assert.equal(env.GIT_INDEX_FILE, undefined);
    assert.equal(env.GIT_TERMINAL_PROMPT, "0");
    assert.equal(env.PATH, "/bin");
  });

  it("is not misled by GIT_DIR in the process environment", async () => {
    const saved = process.env.GIT_DIR;
    process.env.GIT_DIR = join(scratch, "not-a-repo");
    try {
      assert.equal((await runGit(["rev-parse", "--abbrev-ref", "HEAD"], { cwd: repo.directory })).trim(), "main");
    } finally {
      if (saved === undefined) delete process.env.GIT_DIR;
      else process.env.GIT_DIR = saved;
    }
  });

  it("reports a failing command as transient GitFailed with the command and git's last words", async () => {
    const error = await runGit(["rev-parse", "--verify", "no-such-branch"], { cwd: repo.directory }).then(
      () => assert.fail("expected a failure"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof FerryError);
    assert.equal(error.disposition, "transient");
    assert.equal(error.reason, "GitFailed");
    assert.match(error.message, /^git rev-parse --verify no-such-branch failed \(exit 128\): .*needed a single revision/i);
  });

  it("masks credentials of URLs in failures", async () => {
    const error = await runGit(["ls-remote", "--", "https://bob:hunter2@127.0.0.1:9/repo.git"], { cwd: scratch, timeoutMs: 20_000 }).then(
      () => assert.fail("expected a failure"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof FerryError);
    assert.doesNotMatch(error.message, /hunter2/);
    assert.match(error.message, /bob:\*\*\*@127\.0\.0\.1/);
  });

  it("says clearly when there is no git binary, as a stalled error", async () => {
    const error = await execGit(["--version"], { env: { PATH: join(scratch, "empty") } }).then(
      () => assert.fail("expected a failure"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof FerryError);
    assert.equal(error.disposition, "stalled");
    assert.equal(error.reason, "GitNotFound");
    assert.match(error.message, /git executable not found/);
  });

  it("kills a command that runs past its time limit", async () => {
    // A shell alias stands in for a hung network command; its sleep runs in git's process group.
    const error = await execGit(["-c", "alias.hang=!sleep 30", "hang"], { cwd: scratch, timeoutMs: 300 }).then(
      () => assert.fail("expected a timeout"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof FerryError);
    assert.equal(error.disposition, "transient");
    assert.match(error.message, /timed out after 300ms/);
  });
});
