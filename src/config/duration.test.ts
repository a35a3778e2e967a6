import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DURATION_PATTERN, formatDuration, parseDuration } from "./duration.js";

describe("parseDuration", () => {
  it("reads the forms people write for intervals", () => {
    assert.equal(parseDuration("500ms"), 500);
    assert.equal(parseDuration("30s"), 30_000);
    assert.equal(parseDuration("5m"), 300_000);
    assert.equal(parseDuration("1h"), 3_600_000);
    assert.equal(parseDuration("1h30m"), 5_400_000);
    assert.equal(parseDuration("5m0s"), 300_000);
    assert.equal(parseDuration("1.5h"), 5_400_000);
    assert.equal(parseDuration(".5s"), 500);
    assert.equal(parseDuration("0"), 0);
    assert.equal(parseDuration("0s"), 0);
  });

  it("accepts Go's sub-millisecond units", () => {
    assert.equal(parseDuration("1500us"), 1.5);
    assert.equal(parseDuration("1500µs"), 1.5);
    assert.equal(parseDuration("2000000ns"), 2);
  });

  it("refuses what Go refuses, and negative durations", () => {
    for (const bad of ["", "5", "1 m", " 1m", "1m ", "-1s", "+1s", "1d", "1M", "m", "1h30", ".s", "1.2.3s", "1e3s", "5min", "1H"]) {
      assert.equal(parseDuration(bad), undefined, JSON.stringify(bad));
    }
  });

  it("refuses numbers too large to represent", () => {
    assert.equal(parseDuration(`${"9".repeat(400)}h`), undefined);
  });

  it("agrees with the pattern editors use", () => {
    const pattern = new RegExp(DURATION_PATTERN);
    for (const text of ["0", "500ms", "1h30m", "1.5h", "-1s", "5", "1d", "1 m"]) {
      assert.equal(pattern.test(text), parseDuration(text) !== undefined, text);
    }
  });
});

describe("formatDuration", () => {
  it("writes durations back in the same style", () => {
    assert.equal(formatDuration(0), "0s");
    assert.equal(formatDuration(500), "500ms");
    assert.equal(formatDuration(60_000), "1m");
    assert.equal(formatDuration(5_400_000), "1h30m");
    assert.equal(formatDuration(61_500), "1m1s500ms");
  });

  it("round-trips through parseDuration", () => {
    for (const ms of [1, 999, 1000, 90_000, 86_400_000]) assert.equal(parseDuration(formatDuration(ms)), ms);
  });
});
