import type {
  ApplicationList,
  ApplicationResponse,
  DeploymentsResponse,
  DiffResponse,
  HistoryResponse,
  HoldsResponse,
  PipelinesResponse,
  PromotionResponse,
  ReleaseResponse,
  ResumeResponse,
  RollbackResponse,
  SessionResponse,
  SuspendResponse,
  SyncStreamLine,
} from "../../src/agent/api-types.js";
import type { EngineEvent } from "../../src/engine/events.js";

/** An answer of the agent other than 2xx, with its message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Filters of the application list, as the API takes them. */
export interface ApplicationFilters {
  readonly search: string;
  readonly health: string;
  readonly sync: string;
}

/**
 * The dashboard's side of the typed contract in src/agent/api-types.ts: every
 * request carries the token as a bearer header; a 401 calls `onUnauthorized`.
 */
export class Api {
  constructor(
    readonly token: string,
    private readonly onUnauthorized: () => void,
  ) {}

  session(): Promise<SessionResponse> {
    return this.get("/api/v1/session");
  }

  applications(filters: ApplicationFilters, limit: number, cursor?: string): Promise<ApplicationList> {
    const params = new URLSearchParams({ limit: String(limit) });
    for (const [key, value] of Object.entries(filters)) if (value) params.set(key, value);
    if (cursor) params.set("continue", cursor);
    return this.get(`/api/v1/applications?${params}`);
  }

  application(name: string): Promise<ApplicationResponse> {
    return this.get(`/api/v1/applications/${encodeURIComponent(name)}`);
  }

  diff(name: string): Promise<DiffResponse> {
    return this.get(`/api/v1/applications/${encodeURIComponent(name)}/diff`, [422]);
  }

  history(params: Record<string, string>): Promise<HistoryResponse> {
    return this.get(`/api/v1/history?${new URLSearchParams(params)}`);
  }

  deployments(params: Record<string, string>): Promise<DeploymentsResponse> {
    return this.get(`/api/v1/deployments?${new URLSearchParams(params)}`);
  }

  pipelines(): Promise<PipelinesResponse> {
    return this.get("/api/v1/pipelines");
  }

  /** Lets the version waiting for approval into an environment (admin token). */
  approve(pipeline: string, environment: string): Promise<PromotionResponse> {
    return this.request("POST", `/api/v1/pipelines/${encodeURIComponent(pipeline)}/approve`, { environment, by: "the dashboard" }) as Promise<PromotionResponse>;
  }

  refresh(): Promise<unknown> {
    return this.request("POST", "/api/v1/refresh", {});
  }

  suspend(name: string, reason: string): Promise<SuspendResponse> {
    return this.request("POST", `/api/v1/applications/${encodeURIComponent(name)}/suspend`, { by: "dashboard", ...(reason ? { reason } : {}) }) as Promise<SuspendResponse>;
  }

  resume(name: string): Promise<ResumeResponse> {
    return this.request("POST", `/api/v1/applications/${encodeURIComponent(name)}/resume`, { by: "dashboard" }) as Promise<ResumeResponse>;
  }

  holds(): Promise<HoldsResponse> {
    return this.get("/api/v1/holds");
  }

  /** Ends the hold a rollback put on an application (admin token). */
  release(name: string): Promise<ReleaseResponse> {
    return this.request("POST", `/api/v1/applications/${encodeURIComponent(name)}/release`, {}) as Promise<ReleaseResponse>;
  }

  rollback(name: string, reason: string): Promise<RollbackResponse> {
    return this.request("POST", `/api/v1/applications/${encodeURIComponent(name)}/rollback`, reason ? { reason } : {}) as Promise<RollbackResponse>;
  }

  /** Runs a sync, calling `onLine` for each progress line; resolves with the last line (the result). */
  async sync(name: string, onLine: (line: SyncStreamLine) => void): Promise<void> {
    const res = await this.fetch("POST", `/api/v1/applications/${encodeURIComponent(name)}/sync`, {});
    if (!res.ok || !res.body) throw await errorOf(res);
    await readLines(res.body, "\n", (line) => {
      if (line.trim()) onLine(JSON.parse(line) as SyncStreamLine);
    });
  }

  /**
   * Follows GET /api/v1/events until `signal` aborts. EventSource cannot send
   * headers, so the stream is read with fetch and parsed here: the token stays
   * in the Authorization header, never in a URL. Reconnects after a break,
   * calling `onState` with whether it is connected. `query` filters on the
   * server (`application=web`), so a page receives only what it shows.
   */
  async followEvents(onEvent: (event: EngineEvent) => void, onState: (connected: boolean) => void, signal: AbortSignal, query = ""): Promise<void> {
    let delay = 1000;
    while (!signal.aborted) {
      try {
        const res = await fetch(`/api/v1/events${query ? `?${query}` : ""}`, { headers: { authorization: `Bearer ${this.token}`, accept: "text/event-stream" }, signal });
        if (res.status === 401) return this.onUnauthorized();
        if (!res.ok || !res.body) throw await errorOf(res);
        onState(true);
        delay = 1000;
        await readLines(res.body, "\n\n", (block) => {
          const data = block
            .split("\n")
            .filter((l) => l.startsWith("data:"))
            .map((l) => l.slice(5).trimStart())
            .join("\n");
          if (data) onEvent(JSON.parse(data) as EngineEvent);
        });
      } catch {
        if (signal.aborted) return;
      }
      onState(false);
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 15_000);
    }
  }

  private async get<T>(path: string, okStatuses: readonly number[] = []): Promise<T> {
    return (await this.request("GET", path, undefined, okStatuses)) as T;
  }

  private async request(method: string, path: string, body?: unknown, okStatuses: readonly number[] = []): Promise<unknown> {
    const res = await this.fetch(method, path, body);
    if (!res.ok && !okStatuses.includes(res.status)) throw await errorOf(res);
    return res.json();
  }

  private async fetch(method: string, path: string, body?: unknown): Promise<Response> {
    const res = await fetch(path, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (res.status === 401) this.onUnauthorized();
    return res;
  }
}

async function errorOf(res: Response): Promise<ApiError> {
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as { error?: string };
    if (body.error) message = body.error;
  } catch {
    // Not JSON: keep the status line.
  }
  return new ApiError(res.status, message);
}

/** Reads a byte stream as text and calls `onPart` for each piece ending in `separator`. */
async function readLines(body: ReadableStream<Uint8Array>, separator: string, onPart: (part: string) => void): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let at: number;
    while ((at = buffer.indexOf(separator)) !== -1) {
      onPart(buffer.slice(0, at));
      buffer = buffer.slice(at + separator.length);
    }
  }
  if (buffer.trim()) onPart(buffer);
}
