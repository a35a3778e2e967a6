import assert from "node:assert/strict";
import { test } from "node:test";
import type { EngineEvent } from "../engine/events.js";
import { ProgressLine, startupProgress } from "./progress.js";

function stream(isTTY: boolean): { isTTY: boolean; written: string[]; write: (text: string) => boolean } {
  const written: string[] = [];
  return { isTTY, written, write: (text) => written.push(text) > 0 };
}

const loaded = (applications: string[]): EngineEvent => ({ type: "ConfigLoaded", revision: "a".repeat(40), applications }) as unknown as EngineEvent;
const finished = (application: string): EngineEvent => ({ type: "SyncFinished", application }) as unknown as EngineEvent;

test("on a terminal, the first start shows the fetch, then the first syncs counted, and clears the line when all are done", () => {
  const out = stream(true);
  let now = 0;
  const line = new ProgressLine(out, () => now);
  const startup = startupProgress(line, "https://git.example.com/org/config");
  assert.deepEqual(out.written, ["\r\x1b[Kfetching https://git.example.com/org/config"]);
  now = 3000;
  startup.onEvent(loaded(["api", "db", "web"]));
  assert.equal(out.written.at(-1), "\r\x1b[Kfirst sync: 0/3 applications done (3s)");
  startup.onEvent(finished("db"));
  line.print(() => out.write("a line of output\n"));
  assert.deepEqual(out.written.slice(-3), ["\r\x1b[K", "a line of output\n", "\r\x1b[Kfirst sync: 1/3 applications done (3s)"], "output goes above the progress line");
  startup.onEvent(finished("api"));
  startup.onEvent(finished("web"));
  assert.equal(out.written.at(-1), "\r\x1b[K", "the line is cleared when every application synced once");
  const count = out.written.length;
  startup.onEvent(finished("web"));
  line.print(() => out.write("later\n"));
  assert.deepEqual(out.written.slice(count), ["later\n"], "nothing more once done");
});

test("piped (not a terminal), progress writes nothing", () => {
  const out = stream(false);
  const line = new ProgressLine(out);
  const startup = startupProgress(line, "/srv/git/config");
  startup.onEvent(loaded(["web"]));
  line.print(() => out.write("output\n"));
  startup.onEvent(finished("web"));
  line.done();
  assert.deepEqual(out.written, ["output\n"]);
});
