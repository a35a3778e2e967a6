import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { findMassDelete, massDeleteMessage } from "./mass-delete.js";

describe("findMassDelete", () => {
  it("allows deleting up to the share, refuses more and refuses all", () => {
    assert.equal(findMassDelete(0, 10), undefined);
    assert.equal(findMassDelete(5, 10), undefined);
    assert.deepEqual(findMassDelete(6, 10), { deleting: 6, owned: 10 });
    assert.deepEqual(findMassDelete(1, 1), { deleting: 1, owned: 1 });
    assert.equal(findMassDelete(1, 2), undefined);
    assert.deepEqual(findMassDelete(3, 3, 1), { deleting: 3, owned: 3 }, "all is refused whatever the share");
    assert.equal(findMassDelete(1, 10, 0.1), undefined);
    assert.deepEqual(findMassDelete(2, 10, 0.1), { deleting: 2, owned: 10 });
  });

  it("says how many of how many and how to override", () => {
    const message = massDeleteMessage("web", { deleting: 7, owned: 10 });
    assert.match(message, /7 of 10 objects/);
    assert.match(message, /ferry\.dev\/allow-mass-delete: "true"/);
    assert.match(message, /ferry sync web --allow-mass-delete/);
  });
});
