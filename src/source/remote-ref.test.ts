import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { candidateRefs, lsRemotePatterns, refProblem, resolveRemoteRef } from "./remote-ref.js";

const A = "a".repeat(40);
const B = "b".repeat(40);
const C = "c".repeat(40);

describe("resolveRemoteRef", () => {
  it("prefers a branch over a tag of the same name", () => {
    const output = `${A}\trefs/heads/v1\n${B}\trefs/tags/v1\n`;
    assert.deepEqual(resolveRemoteRef(output, "v1"), { name: "refs/heads/v1", commit: A });
  });

  it("peels annotated tags to their commit and keeps the tag object", () => {
    const output = `${B}\trefs/tags/v1\n${C}\trefs/tags/v1^{}\n`;
    assert.deepEqual(resolveRemoteRef(output, "v1"), { name: "refs/tags/v1", commit: C, tagObject: B });
    assert.deepEqual(resolveRemoteRef(`${C}\trefs/tags/v2\n`, "v2"), { name: "refs/tags/v2", commit: C }, "a lightweight tag has no tag object");
  });

  it("ignores refs that only end like the wanted one", () => {
    const output = `${A}\trefs/pull/refs/heads/main\n`;
    assert.equal(resolveRemoteRef(output, "main"), undefined);
    assert.deepEqual(resolveRemoteRef(`${A}\trefs/pull/refs/heads/main\n${B}\trefs/heads/main`, "main"), { name: "refs/heads/main", commit: B });
  });

  it("takes full ref names as they are", () => {
    assert.deepEqual(candidateRefs("refs/heads/main"), ["refs/heads/main"]);
    assert.deepEqual(lsRemotePatterns("main"), ["refs/heads/main", "refs/heads/main^{}", "refs/tags/main", "refs/tags/main^{}"]);
  });
});

describe("refProblem", () => {
  it("accepts ordinary branch and tag names", () => {
    for (const ref of ["main", "release/1.2", "v1.0.0", "refs/heads/feature-x"]) assert.equal(refProblem(ref), undefined, ref);
  });

  it("refuses names git would refuse or read as options", () => {
    for (const ref of ["", "-x", "a..b", "a b", "a:b", "x^{}", "a/", "a.lock", ".hidden", "@", "a@{1}", "a//b"]) {
      assert.notEqual(refProblem(ref), undefined, ref);
    }
  });
});
