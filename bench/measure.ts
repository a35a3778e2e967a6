/** What the benchmarks measure with: timings, their median and percentiles, and waiting for a service. */

/** Milliseconds `work` took. */
export async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

/** The median (the mean of the middle two of an even count). */
export function median(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** The p-th percentile, nearest rank (the 95th of 5 samples is the largest). */
export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
}

/** Resolves once `http://127.0.0.1:<port>/` answers with a body holding `text` (within a minute). */
export async function untilServes(port: number, text: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const body = await (await fetch(`http://127.0.0.1:${port}/`)).text();
      if (body.includes(text)) return;
    } catch {
      // not answering yet
    }
    if (Date.now() > deadline) throw new Error(`port ${port} never answered with ${JSON.stringify(text)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
