import assert from "node:assert/strict";
import { test } from "node:test";
import { RateLimiter } from "./rate-limit.js";

test("allows a burst, then the refill rate, per client", () => {
  const limiter = new RateLimiter({ burst: 3, perSecond: 2 });
  assert.deepEqual(
    [0, 0, 0, 0].map(() => limiter.take("a", 1000)),
    [true, true, true, false],
  );
  assert.equal(limiter.take("b", 1000), true, "another client has its own bucket");
  assert.equal(limiter.take("a", 1400), false, "0.8 of a token is not enough");
  assert.equal(limiter.take("a", 1500), true, "one token after half a second");
  assert.equal(limiter.take("a", 100_000), true);
});

test("forgets the stalest clients beyond its size", () => {
  const limiter = new RateLimiter({ burst: 1, perSecond: 0.001, maxClients: 2 });
  assert.equal(limiter.take("a", 0), true);
  assert.equal(limiter.take("a", 1), false);
  limiter.take("b", 2);
  limiter.take("c", 3);
  assert.equal(limiter.take("a", 4), true, "a was forgotten, so it starts with a full bucket");
});
