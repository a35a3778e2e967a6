import type { HttpCheck } from "../config/pipeline.js";

/** Runs HTTP checks of a verification gate, each with a 5 s timeout; a check passes when status and body match. */
export async function runHttpChecks(checks: readonly HttpCheck[], fetcher: typeof fetch = fetch): Promise<{ ok: boolean; message: string }[]> {
  return Promise.all(
    checks.map(async (check) => {
      try {
        const res = await fetcher(check.url, { signal: AbortSignal.timeout(5000), redirect: "manual" });
        const body = await res.text();
        if (res.status !== check.status) return { ok: false, message: `${check.url} answered ${res.status}, expected ${check.status}` };
        if (check.body !== undefined && !body.includes(check.body)) {
          return { ok: false, message: `${check.url} answered without ${JSON.stringify(check.body)}: ${JSON.stringify(body.slice(0, 120))}` };
        }
        return { ok: true, message: `${check.url} answered ${res.status}` };
      } catch (error) {
        return { ok: false, message: `${check.url}: ${(error as Error).message}` };
      }
    }),
  );
}
