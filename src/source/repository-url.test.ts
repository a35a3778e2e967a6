import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { normalizeRepositoryUrl, redactSecrets, repositoryKey, repositoryProblem } from "./repository-url.js";

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
