// Reading a watch stream in tests: events as they arrive, with a deadline.
import type { FakeKube } from "./index.js";
import type { JsonObject } from "./types.js";

/** One watch event as the server framed it. */
export interface WatchEvent {
  readonly type: string;
  readonly object: JsonObject;
}

/** An open watch: take the next events, close it. */
export interface OpenWatch {
  /** Waits (at most 10 s) until `count` more events arrived and returns them. */
  next(count: number): Promise<WatchEvent[]>;
  close(): void;
}

/** Opens `GET <path>?watch=true&<query>` and splits the body into newline-delimited events. */
export async function openWatch(fake: FakeKube, path: string, query = ""): Promise<OpenWatch> {
  const controller = new AbortController();
  const response = await fetch(`${fake.url}${path}?watch=true${query ? `&${query}` : ""}`, { signal: controller.signal });
  if (!response.body) throw new Error("watch has no body");
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const events: WatchEvent[] = [];
  let buffer = "";
  let waiter: (() => void) | undefined;
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let newline: number;
        while ((newline = buffer.indexOf("\n")) >= 0) {
          events.push(JSON.parse(buffer.slice(0, newline)) as WatchEvent);
          buffer = buffer.slice(newline + 1);
          waiter?.();
        }
      }
    } catch {
      // aborted
    }
  })();
  let taken = 0;
  return {
    async next(count) {
      const deadline = Date.now() + 10_000;
      while (events.length < taken + count) {
        if (Date.now() > deadline) throw new Error(`watch: expected ${count} events, got ${events.length - taken}: ${JSON.stringify(events.slice(taken))}`);
        await new Promise<void>((resolve) => {
          waiter = resolve;
          setTimeout(resolve, 100);
        });
      }
      const out = events.slice(taken, taken + count);
      taken += count;
      return out;
    },
    close: () => controller.abort(),
  };
}
