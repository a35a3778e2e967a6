import assert from "node:assert/strict";
import { access, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { FerryError } from "../core/errors.js";
import { runGit } from "./git.js";
import type { RestoreRequest } from "./git-writer.js";
import { cloneDirectory, NothingToCommitError, PushRejectedError, restoreDirectory } from "./git-writer.js";
import { TestRepository } from "../../test/support/test-repository.js";

const AUTHOR = { name: "Ferry Rollback", email: "rollback@ferry.invalid" } as const;
const MESSAGE = "Roll back apps/web to an earlier revision\n\nRequested by ops.\n\nFerry-Revision: abc";

describe("restoreDirectory", () => {
  let repo: TestRepository;
  let scratch: string;
  let workDir: string;
  let v1: string;
  let v2: string;

  const request = (overrides: Partial<RestoreRequest> = {}): RestoreRequest => ({
    url: repo.directory,
    ref: "main",
    path: "apps/web",
    revision: v1,
    message: MESSAGE,
    author: AUTHOR,
    workDir,
    ...overrides,
  });

  /** A bare copy of the test repository, as a file:// URL, for pushes that need no work tree. */
  const bareCopy = async (): Promise<{ directory: string; url: string }> => {
    const directory = join(scratch, "bare.git");
    await runGit(["clone", "--bare", "--quiet", repo.directory, directory]);
    return { directory, url: pathToFileURL(directory).href };
  };
  const bareGit = (directory: string, ...args: string[]): Promise<string> => runGit([`--git-dir=${directory}`, ...args]);
  const headOf = async (directory: string): Promise<string> => (await bareGit(directory, "rev-parse", "refs/heads/main")).trim();

  beforeEach(async () => {
    repo = await TestRepository.create();
    scratch = await mkdtemp(join(tmpdir(), "ferry-writer-"));
    workDir = join(scratch, "work");
    v1 = await repo.commit(
      { "apps/web/app.yaml": "replicas: 1\n", "apps/web/removed-later.yaml": "old\n", "apps/api/app.yaml": "replicas: 1\n" },
      "v1",
    );
    v2 = await repo.commit(
      {
        "apps/web/app.yaml": "replicas: 3\n",
        "apps/web/removed-later.yaml": null,
        "apps/web/added-later.yaml": "new\n",
        "apps/api/app.yaml": "replicas: 2\n",
      },
      "v2",
    );
  });
  afterEach(async () => {
    await repo.remove();
    await rm(scratch, { recursive: true, force: true });
  });

  it("restores a directory to an older revision and leaves other directories alone", async () => {
    const result = await restoreDirectory(request());
    assert.equal(result.parent, v2);
    assert.equal(result.attempts, 1);
    assert.equal(result.commit, await repo.head());
    assert.deepEqual(result.changedFiles, ["apps/web/added-later.yaml", "apps/web/app.yaml", "apps/web/removed-later.yaml"]);
    const files = (await repo.git("ls-tree", "-r", "--name-only", "HEAD")).trim().split("\n");
    assert.deepEqual(files, ["apps/api/app.yaml", "apps/web/app.yaml", "apps/web/removed-later.yaml"]);
    assert.equal(await repo.git("show", "HEAD:apps/web/app.yaml"), "replicas: 1\n");
    assert.equal(await repo.git("show", "HEAD:apps/web/removed-later.yaml"), "old\n");
    assert.equal(await repo.git("show", "HEAD:apps/api/app.yaml"), "replicas: 2\n");
  });

  it("writes the message, author, committer and parent it was given", async () => {
    const { commit } = await restoreDirectory(request());
    const format = "--format=%an%x00%ae%x00%cn%x00%ce%x00%P%x00%B";
    const [an, ae, cn, ce, parents, body] = (await repo.git("log", "-1", format, commit)).split("\0");
    assert.deepEqual([an, ae, cn, ce, parents], [AUTHOR.name, AUTHOR.email, AUTHOR.name, AUTHOR.email, v2]);
    assert.equal(body?.trimEnd(), MESSAGE);
  });

  it("updates the work tree of a non-bare repository that has the branch checked out", async () => {
    await restoreDirectory(request());
    assert.equal(await readFile(join(repo.directory, "apps/web/app.yaml"), "utf8"), "replicas: 1\n");
    assert.equal(await readFile(join(repo.directory, "apps/web/removed-later.yaml"), "utf8"), "old\n");
    await assert.rejects(access(join(repo.directory, "apps/web/added-later.yaml")), { code: "ENOENT" });
    assert.equal(await repo.git("status", "--porcelain"), "");
  });

  it("refuses to push over uncommitted changes and leaves the branch and the changes as they were", async () => {
    await writeFile(join(repo.directory, "apps/api/app.yaml"), "replicas: 9\n");
    const error = await failure(restoreDirectory(request()));
    assert.ok(error instanceof PushRejectedError, String(error));
    assert.match(error.message, /^push to .* rejected: the repository's working tree has uncommitted changes/);
    assert.equal(await repo.head(), v2);
    assert.equal(await readFile(join(repo.directory, "apps/api/app.yaml"), "utf8"), "replicas: 9\n");
  });

  it("says there is nothing to commit when the directory already has that content", async () => {
    await repo.commit({ "apps/api/app.yaml": "replicas: 5\n" }, "api only");
    const head = await repo.head();
    const error = await failure(restoreDirectory(request({ revision: v2 })));
    assert.ok(error instanceof NothingToCommitError, String(error));
    assert.equal(error.message, `apps/web already has the content of ${v2.slice(0, 8)} on main`);
    assert.equal(await repo.head(), head);
  });

  it("removes a directory that did not exist at the revision", async () => {
    const before = await repo.commit({ "other.txt": "x" }, "no charts yet");
    await repo.commit({ "charts/web/Chart.yaml": "name: web\n" }, "add chart");
    const result = await restoreDirectory(request({ path: "charts", revision: before }));
    assert.deepEqual(result.changedFiles, ["charts/web/Chart.yaml"]);
    assert.equal((await repo.git("ls-tree", "--name-only", "HEAD", "--", "charts")).trim(), "");
  });

  it("restores the whole repository for path '.'", async () => {
    const result = await restoreDirectory(request({ path: ".", revision: v1 }));
    assert.equal(await repo.git("rev-parse", `${result.commit}^{tree}`), await repo.git("rev-parse", `${v1}^{tree}`));
  });

  it("pushes to a bare repository given as a file:// URL, reusing its clone", async () => {
    const bare = await bareCopy();
    const first = await restoreDirectory(request({ url: bare.url, path: "apps/api" }));
    const second = await restoreDirectory(request({ url: bare.url }));
    assert.equal(second.parent, first.commit);
    assert.equal(await headOf(bare.directory), second.commit);
    assert.equal(await bareGit(bare.directory, "show", "main:apps/web/app.yaml"), "replicas: 1\n");
    assert.equal(await bareGit(bare.directory, "show", "main:apps/api/app.yaml"), "replicas: 1\n");
    await access(join(cloneDirectory(workDir, bare.url), ".git"));
    assert.equal(await repo.head(), v2, "the repository the bare copy came from is untouched");
  });

  /**
   * Makes a hook of the working clone commit to the bare repository behind the
   * writer's back: post-commit moves the branch before the push connects,
   * pre-push after the remote advertised its head. Once, or on every attempt.
   */
  const raceWith = async (bare: { directory: string; url: string }, hook: "post-commit" | "pre-push", once: boolean): Promise<void> => {
    // A first restore creates the working clone, so a hook can be put into it.
    await restoreDirectory(request({ url: bare.url, path: "apps/api" }));
    const hooks = join(scratch, "hooks");
    await mkdir(hooks);
    const marker = join(scratch, "raced");
    const script = [
      "#!/bin/sh",
      "unset $(git rev-parse --local-env-vars)",
      ...(once ? [`[ -e '${marker}' ] && exit 0`, `touch '${marker}'`] : []),
      `export GIT_DIR='${bare.directory}'`,
      "c=$(git -c user.name=Racer -c user.email=racer@ferry.invalid commit-tree -p refs/heads/main -m race 'refs/heads/main^{tree}')",
      'git update-ref refs/heads/main "$c"',
      "",
    ].join("\n");
    await writeFile(join(hooks, hook), script);
    await chmod(join(hooks, hook), 0o755);
    await runGit(["config", "core.hooksPath", hooks], { cwd: cloneDirectory(workDir, bare.url) });
  };

  for (const [hook, race] of [
    ["post-commit", "the branch moved before the push"],
    ["pre-push", "the branch moved during the push"],
  ] as const) {
    it(`redoes the restore on the new head when ${race}`, async () => {
      const bare = await bareCopy();
      await raceWith(bare, hook, true);
      const result = await restoreDirectory(request({ url: bare.url }));
      assert.equal(result.attempts, 2);
      assert.equal(await headOf(bare.directory), result.commit);
      const subjects = (await bareGit(bare.directory, "log", "--format=%s", "-3", "main")).trim().split("\n");
      const subject = MESSAGE.split("\n")[0];
      assert.deepEqual(subjects, [subject, "race", subject]);
      assert.equal((await bareGit(bare.directory, "rev-parse", `${result.commit}^`)).trim(), result.parent);
      assert.equal(await bareGit(bare.directory, "show", "main:apps/web/app.yaml"), "replicas: 1\n");
    });
  }

  it("gives up after the allowed attempts when the branch keeps moving", async () => {
    const bare = await bareCopy();
    await raceWith(bare, "post-commit", false);
    const before = await headOf(bare.directory);
    const error = await failure(restoreDirectory(request({ url: bare.url, attempts: 2 })));
    assert.ok(error instanceof PushRejectedError, String(error));
    assert.equal(error.disposition, "transient");
    assert.match(error.message, /rejected 2 times because main kept moving \(fetch first\)/);
    const subjects = (await bareGit(bare.directory, "log", "--format=%s", `${before}..main`)).trim().split("\n");
    assert.deepEqual(subjects, ["race", "race"], "only the racing commits landed");
  });

  it("reports a rejection by a hook of the repository at once, with what the hook said", async () => {
    const bare = await bareCopy();
    await writeFile(join(bare.directory, "hooks", "pre-receive"), "#!/bin/sh\necho 'main is frozen until Monday' >&2\nexit 1\n");
    await chmod(join(bare.directory, "hooks", "pre-receive"), 0o755);
    const error = await failure(restoreDirectory(request({ url: bare.url })));
    assert.ok(error instanceof PushRejectedError, String(error));
    assert.equal(error.disposition, "stalled");
    assert.match(error.message, /pre-receive hook declined; main is frozen until Monday$/);
    assert.equal(await headOf(bare.directory), v2);
  });

  it("names a revision the repository does not have", async () => {
    const missing = "1234567890abcdef1234567890abcdef12345678";
    const error = await failure(restoreDirectory(request({ revision: missing })));
    assert.ok(error instanceof FerryError, String(error));
    assert.equal(error.message, `revision 12345678 is not in ${repo.directory}`);
    assert.equal(await repo.head(), v2);
  });

  it("names a branch the repository does not have", async () => {
    const error = await failure(restoreDirectory(request({ ref: "release" })));
    assert.ok(error instanceof FerryError, String(error));
    assert.equal(error.message, `branch "release" not found in ${repo.directory}`);
  });

  it("refuses requests that cannot be valid before running git", async () => {
    for (const overrides of [{ revision: "HEAD~1" }, { path: "../etc" }, { path: "/apps" }, { ref: "--force" }, { ref: "refs/tags/v1" }]) {
      const error = await failure(restoreDirectory(request(overrides)));
      assert.ok(error instanceof FerryError && error.reason === "InvalidRestore", `${JSON.stringify(overrides)}: ${String(error)}`);
    }
    await assert.rejects(access(workDir), { code: "ENOENT" });
  });

  it("runs concurrent restores of one repository one after the other", async () => {
    const [web, api] = await Promise.all([restoreDirectory(request()), restoreDirectory(request({ path: "apps/api" }))]);
    assert.equal(web.attempts, 1);
    assert.equal(api.attempts, 1);
    assert.equal(api.parent, web.commit);
    assert.equal(await repo.head(), api.commit);
    assert.equal(await repo.git("show", "HEAD:apps/api/app.yaml"), "replicas: 1\n");
    assert.equal(await repo.git("show", "HEAD:apps/web/app.yaml"), "replicas: 1\n");
  });
});

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => assert.fail("expected a failure"),
    (e: unknown) => e,
  );
}
