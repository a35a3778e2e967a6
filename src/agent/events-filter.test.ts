import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { EngineEvent } from "../engine/events.js";
import { TestRepository } from "../../test/support/test-repository.js";
import type { Agent } from "./agent.js";
import { applicationYaml as app, hostFileYaml as file, startTestAgent } from "../../test/support/agent-test-support.js";
import type { AgentInfo } from "./state-dir.js";


/** A client of the event stream: collects events until closed. */
class EventClient {
  readonly events: EngineEvent[] = [];
  readonly #abort = new AbortController();
  readonly done: Promise<void>;
  readonly connected: Promise<void>;

  constructor(url: string, token: string) {
    let connected!: () => void;
    this.connected = new Promise((resolve) => (connected = resolve));
    this.done = (async () => {
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: this.#abort.signal });
      assert.equal(res.status, 200);
      const decoder = new TextDecoder();
      let buffer = "";
      try {
        for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          let at: number;
          while ((at = buffer.indexOf("\n\n")) !== -1) {
            const block = buffer.slice(0, at);
            buffer = buffer.slice(at + 2);
            if (block.startsWith(": connected")) connected();
            const data = block.split("\n").find((l) => l.startsWith("data: "));
            if (data) this.events.push(JSON.parse(data.slice(6)) as EngineEvent);
          }
        }
      } catch (error) {
        if (!this.#abort.signal.aborted) throw error;
      }
    })();
  }

  async close(): Promise<void> {
    this.#abort.abort();
    await this.done;
  }
}

describe("live events, filtered per client", () => {
  let repo: TestRepository;
  let work: string;
  let agent: Agent;
  let info: AgentInfo;
  let stop: () => Promise<void>;

  before(async () => {
    repo = await TestRepository.create();
    await repo.commit({ "ferry/apps.yaml": `${app("a")}---\n${app("b")}`, "apps/a/a.yaml": file("a", "a1"), "apps/b/b.yaml": file("b", "b1") });
    work = await mkdtemp(join(tmpdir(), "ferry-events-"));
    ({ agent, info, stop } = await startTestAgent(repo, work, {}));
  });

  after(() => stop());

  it("one client follows application a, another only SyncFinished of every application", async () => {
    const onlyA = new EventClient(`${info.url}/api/v1/events?application=a`, info.token);
    const finished = new EventClient(`${info.url}/api/v1/events?type=SyncFinished`, info.token);
    await Promise.all([onlyA.connected, finished.connected]);
    await repo.commit({ "apps/a/a.yaml": file("a", "a2"), "apps/b/b.yaml": file("b", "b2") });
    await agent.refresh();
    await agent.engine.whenIdle();
    // Events are written as they happen; give the sockets a moment to deliver the last ones.
    for (let i = 0; i < 100 && finished.events.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    await Promise.all([onlyA.close(), finished.close()]);

    assert.ok(onlyA.events.some((e) => e.type === "SyncFinished"), "a's client saw a's sync");
    assert.ok(onlyA.events.some((e) => e.type === "Progress"), "and its progress");
    assert.deepEqual([...new Set(onlyA.events.map((e) => ("application" in e ? e.application : e.type)))], ["a"], "and nothing of b or the configuration");
    assert.deepEqual(finished.events.map((e) => e.type), ["SyncFinished", "SyncFinished"]);
    assert.deepEqual(finished.events.map((e) => ("application" in e ? e.application : "")).sort(), ["a", "b"]);
  });

  it("an unknown event type is a 400 that names the known ones", async () => {
    const res = await fetch(`${info.url}/api/v1/events?type=SyncFinshed`, { headers: { authorization: `Bearer ${info.token}` } });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: string }).error, /unknown event type "SyncFinshed": use Progress, .*SyncFinished/);
  });
});
