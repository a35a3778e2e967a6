import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { normalizeRepositoryUrl, redactSecrets, repositoryKey, repositoryProblem, resolveRepositoryUrl } from "./repository-url.js";

describe("normalizeRepositoryUrl", () => {
  it("turns local paths into absolute file URLs", () => {
    assert.equal(normalizeRepositoryUrl("./repo", "/srv/gitops"), "file:///srv/gitops/repo");
    assert.equal(normalizeRepositoryUrl("/srv/repo/", "/elsewhere"), "file:///srv/repo");
    assert.equal(normalizeRepositoryUrl("../a b", "/srv/x"), "file:///srv/a%20b");
  });

  it("keeps URLs and scp-like ssh addresses, without trailing slashes", () => {
    assert.equal(normalizeRepositoryUrl("https://git.example.com/org/repo.git/"), "https://git.example.com/org/repo.git");
    assert.equal(normalizeRepositoryUrl("ssh://git@git.example.com/org/repo"), "ssh://git@git.example.com/org/repo");
    assert.equal(normalizeRepositoryUrl("git@github.com:org/repo.git"), "git@github.com:org/repo.git");
    assert.equal(normalizeRepositoryUrl("file:///srv/repo"), "file:///srv/repo");
    assert.equal(normalizeRepositoryUrl("file:///"), "file:///");
  });

  it("gives one repository one key whichever way it is written", () => {
    const a = repositoryKey(normalizeRepositoryUrl("./repo", "/srv"));
    const b = repositoryKey(normalizeRepositoryUrl("/srv/repo/", "/tmp"));
    assert.equal(a, b);
    assert.match(a, /^[0-9a-f]{16}$/);
  });
});

describe("repositoryProblem", () => {
  it("refuses what git would read as an option", () => {
    assert.match(repositoryProblem("--upload-pack=touch /tmp/x") ?? "", /must not start with "-"/);
    assert.equal(repositoryProblem(""), "repository is empty");
    assert.equal(repositoryProblem("https://example.com/repo"), undefined);
  });
});

describe("redactSecrets", () => {
  it("masks passwords and http tokens but keeps ssh users", () => {
    assert.equal(redactSecrets("fetch https://bob:hunter2@host/r failed"), "fetch https://bob:***@host/r failed");
    assert.equal(redactSecrets("https://ghp_token123@github.com/o/r"), "https://***@github.com/o/r");
    assert.equal(redactSecrets("ssh://git@host/r"), "ssh://git@host/r");
    assert.equal(redactSecrets("no urls here"), "no urls here");
  });
});

describe("resolveRepositoryUrl", () => {
  it("resolves ./x and ../x against the declaring repository, as git resolves relative submodule URLs", () => {
    const cases: [string, string, string][] = [
      ["../apps", "https://git.example.com/org/config", "https://git.example.com/org/apps"],
      ["../apps.git", "https://git.example.com/org/config.git/", "https://git.example.com/org/apps.git"],
      ["./apps", "https://git.example.com/org/config", "https://git.example.com/org/config/apps"],
      ["../../other/apps", "ssh://git@git.example.com/org/config.git", "ssh://git@git.example.com/other/apps"],
      ["../apps.git", "git@github.com:org/config.git", "git@github.com:org/apps.git"],
      ["../apps", "/srv/git/config", "file:///srv/git/apps"],
      ["../apps", "file:///srv/git/config", "file:///srv/git/apps"],
      // A declaring path relative to where the agent was started is taken from there; the application's URL from it.
      ["../apps", "repos/config", "file:///home/ops/repos/apps"],
    ];
    for (const [relative, declaring, expected] of cases) assert.equal(resolveRepositoryUrl(relative, declaring, "/home/ops"), expected, `${relative} beside ${declaring}`);
  });

  it("leaves absolute URLs and paths as written", () => {
    for (const url of ["https://git.example.com/org/apps", "git@github.com:org/apps.git", "/srv/git/apps", "file:///srv/git/apps"]) {
      assert.equal(resolveRepositoryUrl(url, "/srv/git/config", "/elsewhere"), url);
    }
  });

  it("does not depend on the agent's working directory", () => {
    assert.equal(resolveRepositoryUrl("../apps", "/srv/git/config", "/a"), resolveRepositoryUrl("../apps", "/srv/git/config", "/b"));
  });
});
