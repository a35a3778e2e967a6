import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isGitRefName, normalizeSourcePath, repoUrlProblem, sourcePathProblem, sourcePathSchema } from "./source-fields.js";
import { z } from "zod";

describe("source fields", () => {
  it("accepts relative paths and refuses escapes", () => {
    for (const ok of ["apps/web", ".", "./apps", "a/b/c", "a..b", "..hidden/x", "x/.."+"y"]) assert.equal(sourcePathProblem(ok), undefined, ok);
    for (const bad of ["..", "../x", "a/../..", "a/..", "/abs", "C:\\x", "c:/x", "a\\b", "a\0b"]) assert.notEqual(sourcePathProblem(bad), undefined, bad);
  });

  it("gives editors the same path rules", () => {
    const pattern = new RegExp(String((z.toJSONSchema(sourcePathSchema, { io: "input" }) as { pattern: string }).pattern));
    for (const path of ["apps/web", ".", "a..b", "..", "../x", "a/..", "/abs", "C:/x", "a\\b"]) {
      assert.equal(pattern.test(path), sourcePathProblem(path) === undefined, path);
    }
  });

  it("normalizes paths", () => {
    assert.equal(normalizeSourcePath("./apps//web/"), "apps/web");
    assert.equal(normalizeSourcePath("./"), ".");
    assert.equal(normalizeSourcePath("."), ".");
  });

  it("knows branch and tag names", () => {
    for (const ok of ["main", "release/v2", "v1.2.0", "feature/a-b_c", "@x"]) assert.equal(isGitRefName(ok), true, ok);
    for (const bad of ["-x", "--upload-pack=x", "a..b", "a b", "a~1", "a^", "a:b", "a?", "a*", "a[", "a\\b", "/a", "a/", "a.", "a.lock", "a//b", ".a", "a/.b", "@", "a@{1}", ""]) {
      assert.equal(isGitRefName(bad), false, bad);
    }
  });

  it("knows repository URLs it must not pass to git", () => {
    for (const ok of ["https://git.example.com/a.git", "ssh://git@host/a.git", "git@host:a/b.git", "/srv/git/a", "../sibling", "file:///srv/a"]) {
      assert.equal(repoUrlProblem(ok), undefined, ok);
    }
    for (const bad of ["-u", "ext::sh", "FD::3", "https://u:p@h/x", "http://token@h/x", "ssh://git:pw@h/x", "a b", "a\nb"]) assert.notEqual(repoUrlProblem(bad), undefined, bad);
  });
});
