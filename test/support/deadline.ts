/**
 * How much longer than usual tests may wait for an event on this machine:
 * `FERRY_TEST_TIME_SCALE` (a positive number, default 1) multiplies every
 * deadline a test waits on. Tests wait on events, never on fixed sleeps; the
 * scale only moves the point where a test gives up.
 */
export const TIME_SCALE = parseTimeScale(process.env.FERRY_TEST_TIME_SCALE);

/** `ms` scaled by FERRY_TEST_TIME_SCALE. */
export function scaled(ms: number): number {
  return Math.round(ms * TIME_SCALE);
}

function parseTimeScale(value: string | undefined): number {
  if (value === undefined || value === "") return 1;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`FERRY_TEST_TIME_SCALE must be a positive number, not ${JSON.stringify(value)}`);
  return n;
}
