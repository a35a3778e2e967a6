import assert from "node:assert/strict";
import { test } from "node:test";
import { describeDrift } from "./status.js";

test("drift is described with the verb agreeing with the count", () => {
  assert.equal(describeDrift(1), "1 object differs from Git");
  assert.equal(describeDrift(2), "2 objects differ from Git");
});
