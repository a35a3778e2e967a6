import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { Artifact, RefreshResult, SourceFetcher } from "./artifact.js";
import { GitFetcher } from "./git-fetcher.js";
import { nextPollDelay, Poller } from "./poller.js";
import { removeTree } from "./read-only-tree.js";
import { TestRepository } from "../../test/support/test-repository.js";

/** Polls `condition` until it holds; the generous deadline keeps a loaded machine from failing the test. */
async function eventually(condition: () => boolean, what: string, deadlineMs = 15_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A fetcher whose refreshes finish only when the test says so. */
class GatedFetcher implements Pick<SourceFetcher, "refresh" | "current"> {
  readonly url = "gated";
  readonly ref = "main";
  started = 0;
  concurrent = 0;
  maxConcurrent = 0;
  readonly #gates: (() => void)[] = [];

  refresh(): Promise<RefreshResult> {
    this.started++;
    this.concurrent++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
    const n = this.started;
    return new Promise((resolve) => {
      this.#gates.push(() => {
        this.concurrent--;
        resolve({ artifact: { revision: String(n) } as unknown as Artifact, changed: true, fetched: true });
      });
    });
  }
  current(): Artifact | undefined {
    return undefined;
  }
  release(): void {
    this.#gates.shift()?.();
  }
}

describe("nextPollDelay", () => {
  it("varies the interval by at most the jitter either way", () => {
    assert.equal(nextPollDelay(1000, 0.2, 0.5), 1000);
    assert.equal(nextPollDelay(1000, 0.2, 0), 800);
    assert.equal(nextPollDelay(1000, 0.2, 0.999999), 1200);
    assert.equal(nextPollDelay(1000, 0, 0), 1000);
    assert.equal(nextPollDelay(1000, 5, 0), 0);
  });
});

describe("Poller", () => {
  it("never overlaps polls, and triggers during a poll share one run after it", async () => {
    const fetcher = new GatedFetcher();
    const poller = new Poller(fetcher, { intervalMs: 60_000 });
    const first = poller.triggerNow();
    const second = poller.triggerNow();
    const third = poller.triggerNow();
    assert.equal(second, third);
    assert.equal(fetcher.started, 1);
    fetcher.release();
    assert.equal((await first).artifact.revision, "1");
    await eventually(() => fetcher.started === 2, "the queued poll");
    fetcher.release();
    assert.equal((await second).artifact.revision, "2");
    assert.equal(fetcher.maxConcurrent, 1);
    poller.stop();
  });

  it("reports failures to onError and keeps polling", async () => {
    let calls = 0;
    const errors: unknown[] = [];
    const results: RefreshResult[] = [];
    const fetcher: Pick<SourceFetcher, "url" | "ref" | "refresh" | "current"> = {
      url: "flaky",
      ref: "main",
      refresh: () => (++calls === 1 ? Promise.reject(new Error("network down")) : Promise.resolve({ changed: false, fetched: false } as RefreshResult)),
      current: () => undefined,
    };
    const poller = new Poller(fetcher, { intervalMs: 5, onError: (e) => errors.push(e), onResult: (r) => results.push(r) });
    poller.start();
    await eventually(() => results.length >= 2, "polls after the failure");
    poller.stop();
    assert.match(String(errors[0]), /network down/);
  });

  it("does not keep the process alive by its timer alone", async () => {
    // A started poller with a long interval, in a process of its own: it must exit on its own.
    const script = [
      `import { Poller } from ${JSON.stringify(new URL("./poller.js", import.meta.url).href)};`,
      "const fetcher = { url: 'x', ref: 'main', current: () => undefined, refresh: async () => ({ changed: false, fetched: false }) };",
      "const poller = new Poller(fetcher, { intervalMs: 3600000, onResult: () => console.log('polled') });",
      "poller.start();",
    ].join("\n");
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const deadline = setTimeout(() => child.kill("SIGKILL"), 15_000);
    const code = await exited;
    clearTimeout(deadline);
    assert.equal(code, 0, "the process was kept alive by the poller's timer");
    assert.equal(output.trim(), "polled");
  });

  describe("with a git repository", () => {
    let repo: TestRepository;
    let cacheDir: string;
    beforeEach(async () => {
      repo = await TestRepository.create();
      cacheDir = await mkdtemp(join(tmpdir(), "ferry-poller-"));
    });
    afterEach(async () => {
      await repo.remove();
      await removeTree(cacheDir);
    });

    it("picks up a new commit on its own, and at once when triggered", async () => {
      const first = await repo.commit({ "a.txt": "1" });
      const fetcher = new GitFetcher(repo.directory, "main", { cacheDir });
      const changes: string[] = [];
      const errors: unknown[] = [];
      const poller = new Poller(fetcher, {
        intervalMs: 20,
        jitter: 0.5,
        onResult: (r) => {
          if (r.changed) changes.push(r.artifact.revision);
        },
        onError: (e) => errors.push(e),
      });
      poller.start();
      await eventually(() => changes.length === 1, "the first poll");
      const second = await repo.commit({ "a.txt": "2" });
      await eventually(() => changes.length === 2, "the poll that sees the new commit");
      assert.deepEqual(changes, [first, second]);
      poller.stop();

      // Stopped: only a trigger polls now.
      const third = await repo.commit({ "a.txt": "3" });
      const result = await poller.triggerNow();
      assert.equal(result.changed, true);
      assert.equal(result.artifact.revision, third);
      assert.deepEqual(errors, []);
    });
  });
});
