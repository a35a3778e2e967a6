import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { Readable } from "node:stream";
import type { ReadableStream } from "node:stream/web";
import type { TLSSocket } from "node:tls";
import { connect as tlsConnect } from "node:tls";
import type { ApplicationList, DiffResponse, ReleaseResponse, ResumeResponse, RevisionDiffResponse, RollbackResponse, SuspendResponse, SyncStreamLine } from "../agent/api-types.js";
import type { ApproveBody, PipelineResponse, PipelinesResponse, PromoteBody, PromotionResponse } from "../agent/api-types.js";
import type { RollbackRequest } from "../agent/rollback.js";
import type { AgentInfo } from "../agent/state-dir.js";
import { readAgentInfo } from "../agent/state-dir.js";
import type { EngineEvent } from "../engine/events.js";
import type { ApplicationStatus } from "../engine/status.js";
import { CliError } from "./exit-codes.js";

/** Talks to a running agent through its control API. */
export class AgentClient {
  constructor(readonly info: AgentInfo) {}

  /** The client of the agent running on this state directory, or undefined when none runs. */
  static async find(stateDir: string): Promise<AgentClient | undefined> {
    const info = await readAgentInfo(stateDir);
    return info ? new AgentClient(info) : undefined;
  }

  /** The agent's version (GET /api/v1/version, behind the token); undefined from an agent older than that route. */
  async version(): Promise<string | undefined> {
    const body = (await this.#request("GET", "/api/v1/version", undefined, [404])) as { version?: unknown };
    return typeof body.version === "string" ? body.version : undefined;
  }

  async applications(): Promise<ApplicationList> {
    return (await this.#request("GET", "/api/v1/applications")) as ApplicationList;
  }

  async application(name: string): Promise<ApplicationStatus> {
    return (await this.#request("GET", `/api/v1/applications/${encodeURIComponent(name)}`)) as ApplicationStatus;
  }

  async diff(name: string): Promise<DiffResponse> {
    return (await this.#request("GET", `/api/v1/applications/${encodeURIComponent(name)}/diff`, undefined, [422])) as DiffResponse;
  }

  /** What merging a revision would change: every application, or the one named. */
  async diffRevision(revision: string, name?: string): Promise<RevisionDiffResponse> {
    const query = `?revision=${encodeURIComponent(revision)}`;
    const path = name === undefined ? `/api/v1/diff${query}` : `/api/v1/applications/${encodeURIComponent(name)}/diff${query}`;
    return (await this.#request("GET", path)) as RevisionDiffResponse;
  }

  async rollback(name: string, request: RollbackRequest): Promise<RollbackResponse> {
    return (await this.#request("POST", `/api/v1/applications/${encodeURIComponent(name)}/rollback`, request)) as RollbackResponse;
  }

  async release(name: string): Promise<boolean> {
    return ((await this.#request("POST", `/api/v1/applications/${encodeURIComponent(name)}/release`, {})) as ReleaseResponse).released;
  }

  async pipelines(): Promise<PipelinesResponse> {
    return (await this.#request("GET", "/api/v1/pipelines")) as PipelinesResponse;
  }

  async pipeline(name: string): Promise<PipelineResponse> {
    return (await this.#request("GET", `/api/v1/pipelines/${encodeURIComponent(name)}`)) as PipelineResponse;
  }

  /** Promotes a pipeline (or the pipeline of an application) into an environment. */
  async promote(target: string, body: PromoteBody): Promise<PromotionResponse> {
    return (await this.#request("POST", `/api/v1/pipelines/${encodeURIComponent(target)}/promote`, body)) as PromotionResponse;
  }

  async approve(pipeline: string, body: ApproveBody): Promise<PromotionResponse> {
    return (await this.#request("POST", `/api/v1/pipelines/${encodeURIComponent(pipeline)}/approve`, body)) as PromotionResponse;
  }

  async suspend(name: string, request: { by: string; reason?: string }): Promise<SuspendResponse> {
    return (await this.#request("POST", `/api/v1/applications/${encodeURIComponent(name)}/suspend`, request)) as SuspendResponse;
  }

  async resume(name: string, request: { by: string }): Promise<boolean> {
    return ((await this.#request("POST", `/api/v1/applications/${encodeURIComponent(name)}/resume`, request)) as ResumeResponse).resumed;
  }

  async refresh(options: { allowMassDelete?: boolean } = {}): Promise<void> {
    await this.#request("POST", "/api/v1/refresh", options.allowMassDelete ? { allowMassDelete: true } : {});
  }

  /** Syncs every application that is not suspended; resolves with their statuses after their runs. */
  async syncAll(body: { prune: boolean; allowMassDelete: boolean }): Promise<ApplicationStatus[]> {
    return ((await this.#request("POST", "/api/v1/sync", body)) as { applications: ApplicationStatus[] }).applications;
  }

  /** Starts a sync and calls `onLine` for each progress line; resolves with the final status. */
  async sync(name: string, body: { prune: boolean; allowMassDelete: boolean }, onEvent: (event: EngineEvent) => void): Promise<ApplicationStatus> {
    const res = await this.#fetch("POST", `/api/v1/applications/${encodeURIComponent(name)}/sync`, body);
    if (!res.ok || !res.body) throw new CliError(await errorText(res));
    let buffer = "";
    let result: ApplicationStatus | undefined;
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      buffer += Buffer.from(chunk).toString("utf8");
      let newline: number;
      while ((newline = buffer.indexOf("\n")) !== -1) {
        const line = JSON.parse(buffer.slice(0, newline)) as SyncStreamLine;
        buffer = buffer.slice(newline + 1);
        if (line.type === "Result") result = line.status;
        else onEvent(line);
      }
    }
    if (!result) throw new CliError("the agent closed the sync stream without a result");
    return result;
  }

  async #request(method: string, path: string, body?: unknown, okStatuses: readonly number[] = []): Promise<unknown> {
    const res = await this.#fetch(method, path, body);
    if (!res.ok && !okStatuses.includes(res.status)) throw new CliError(await errorText(res));
    return res.json();
  }

  async #fetch(method: string, path: string, body?: unknown): Promise<Response> {
    const headers = { authorization: `Bearer ${this.info.token}`, ...(body ? { "content-type": "application/json" } : {}) };
    const text = body ? JSON.stringify(body) : undefined;
    try {
      if (this.info.tlsCertFile !== undefined) return await pinnedHttps(this.info.url + path, this.info.tlsCertFile, { method, headers, ...(text !== undefined ? { body: text } : {}) });
      return await fetch(this.info.url + path, { method, headers, ...(text !== undefined ? { body: text } : {}) });
    } catch (error) {
      throw new CliError(`cannot reach the agent at ${this.info.url} (pid ${this.info.pid}): ${(error as Error).message}`);
    }
  }
}

/**
 * A request to an agent serving HTTPS: accepted only when the server presents
 * exactly the certificate in the agent's state directory (self-signed or not,
 * whatever host name it is for), so no CA has to be installed for the CLI.
 */
async function pinnedHttps(url: string, certFile: string, init: { method: string; headers: Record<string, string>; body?: string }): Promise<Response> {
  const expected = new X509Certificate(await readFile(certFile)).fingerprint256;
  const { hostname, port } = new URL(url);
  const host = hostname.replace(/^\[|\]$/g, "");
  // The handshake is checked before anything (the token) is sent over the connection.
  const socket = await new Promise<TLSSocket>((resolveSocket, reject) => {
    const s = tlsConnect({ host, port: Number(port || 443), rejectUnauthorized: false }, () => {
      if (s.getPeerCertificate().fingerprint256 === expected) return resolveSocket(s);
      s.destroy();
      reject(new Error(`the agent's certificate is not the one in ${certFile}`));
    });
    s.once("error", reject);
  });
  return new Promise((resolvePromise, reject) => {
    const req = httpRequest(url.replace(/^https:/, "http:"), { method: init.method, headers: init.headers, createConnection: () => socket }, (res) => {
      const headers = new Headers();
      for (const [name, value] of Object.entries(res.headers)) if (typeof value === "string") headers.set(name, value);
      resolvePromise(new Response(Readable.toWeb(res) as ReadableStream<Uint8Array>, { status: res.statusCode ?? 500, headers }));
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

async function errorText(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { error?: string };
    return `agent answered ${res.status}: ${body.error ?? res.statusText}`;
  } catch {
    return `agent answered ${res.status} ${res.statusText}`;
  }
}
