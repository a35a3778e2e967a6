import assert from "node:assert/strict";
import { test } from "node:test";
import type { RestartSpec } from "./host-schemas.js";
import { describeExit, restartDelaySeconds, serviceHealth, shouldRestart } from "./service-state.js";

const restart: RestartSpec = { policy: "always", backoffSeconds: 1, maxBackoffSeconds: 30 };

test("restart backoff doubles per consecutive restart up to the maximum", () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map((n) => restartDelaySeconds(restart, n)), [1, 2, 4, 8, 16, 30, 30]);
});

test("the restart policy decides which exits are restarted", () => {
  assert.equal(shouldRestart(restart, 0), true);
  assert.equal(shouldRestart({ ...restart, policy: "on-failure" }, 0), false);
  assert.equal(shouldRestart({ ...restart, policy: "on-failure" }, 2), true);
  assert.equal(shouldRestart({ ...restart, policy: "on-failure" }, null), true);
  assert.equal(shouldRestart({ ...restart, policy: "never" }, 1), false);
});

test("exits are described by code, then signal", () => {
  assert.equal(describeExit(1, null), "exited with code 1");
  assert.equal(describeExit(null, "SIGKILL"), "was killed by signal SIGKILL");
  assert.equal(describeExit(null, null), "exited");
});

test("service health follows the process and its health check", () => {
  const check = { passedOnce: false, failures: 0, threshold: 3 };
  assert.equal(serviceHealth({ phase: "running", pid: 7 }).status, "Healthy");
  assert.equal(serviceHealth({ phase: "running", pid: 7, check }).status, "Progressing");
  assert.equal(serviceHealth({ phase: "running", pid: 7, check: { ...check, passedOnce: true, failures: 2 } }).status, "Healthy");
  assert.deepEqual(serviceHealth({ phase: "running", pid: 7, check: { ...check, passedOnce: true, failures: 3, lastFailure: "http check of x returned status 500" } }), {
    status: "Degraded",
    message: "health check failed 3 times in a row: http check of x returned status 500",
  });
  assert.deepEqual(serviceHealth({ phase: "backoff", lastExit: "exited with code 1", delaySeconds: 4, restart: 3, nextAt: Date.UTC(2026, 0, 2, 3, 4, 5) }), {
    status: "Degraded",
    message: "exited with code 1; restarting, attempt 3, next at 2026-01-02T03:04:05.000Z (backoff 4s)",
  });
  assert.equal(serviceHealth({ phase: "exited", lastExit: "exited with code 0", policy: "on-failure" }).message, "exited with code 0 and is not restarted (restart policy on-failure)");
});
