import assert from "node:assert/strict";
import { test } from "node:test";
import { count } from "./text.js";

test("counts with the right number of the noun", () => {
  assert.equal(count(1, "object"), "1 object");
  assert.equal(count(0, "object"), "0 objects");
  assert.equal(count(3, "file"), "3 files");
});
