import assert from "node:assert/strict";
import { test } from "node:test";
import { MAX_DIFFED_BYTES, unifiedContentDiff } from "./content-diff.js";

test("a text file's content diff reads as git diff prints it, live to Git", () => {
  const text = unifiedContentDiff("/srv/app.conf", Buffer.from("a\nb\nc\n"), Buffer.from("a\nB\nc\n"));
  assert.equal(text, ["--- a/srv/app.conf", "+++ b/srv/app.conf", "@@ -1,3 +1,3 @@", " a", "-b", "+B", " c"].join("\n"));
});

test("binary and large contents are said to differ, not diffed", () => {
  assert.equal(unifiedContentDiff("/x", Buffer.from([1, 0, 2]), Buffer.from("text")), "binary content differs (not diffed)");
  const big = Buffer.alloc(MAX_DIFFED_BYTES + 1, "a");
  assert.match(unifiedContentDiff("/x", big, Buffer.from("a")), /^content differs \(262145 bytes: files over 256 KiB are not diffed\)$/);
});
