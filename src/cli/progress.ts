import type { EngineEvent } from "../engine/events.js";

/** Where progress goes: a terminal (stderr) or anything written to. */
export interface ProgressStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

/**
 * One line of progress for people at a terminal: rewritten in place with the
 * seconds it has taken, and cleared when done. On anything but a terminal
 * (a pipe, a file, CI logs) it writes nothing, so output that is read by
 * programs stays as it was.
 */
export class ProgressLine {
  readonly enabled: boolean;
  #text: string | undefined;
  #startedAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #shown = false;

  constructor(
    private readonly stream: ProgressStream = process.stderr,
    private readonly now: () => number = Date.now,
  ) {
    this.enabled = stream.isTTY === true;
  }

  /** Shows `text`, counting the seconds from now (or from the first call while one is shown). */
  set(text: string): void {
    if (!this.enabled) return;
    if (this.#text === undefined) this.#startedAt = this.now();
    this.#text = text;
    this.#draw();
    if (!this.#timer) {
      this.#timer = setInterval(() => this.#draw(), 1000);
      this.#timer.unref();
    }
  }

  /** Writes a line of output above the progress line (which is drawn again below it). */
  print(write: () => void): void {
    this.#clear();
    write();
    if (this.#text !== undefined) this.#draw();
  }

  /** Removes the line for good. */
  done(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#clear();
    this.#text = undefined;
  }

  #draw(): void {
    if (this.#text === undefined) return;
    const seconds = Math.floor((this.now() - this.#startedAt) / 1000);
    this.stream.write(`\r\x1b[K${this.#text}${seconds > 0 ? ` (${seconds}s)` : ""}`);
    this.#shown = true;
  }

  #clear(): void {
    if (!this.#shown) return;
    this.stream.write("\r\x1b[K");
    this.#shown = false;
  }
}

/**
 * Follows an agent's start on a progress line: the first fetch of the
 * configuration repository (a large one can take a while to clone), then the
 * first sync of every application, counted; done once each has finished once.
 */
export function startupProgress(line: ProgressLine, repository: string): { readonly onEvent: (event: EngineEvent) => void } {
  let pending: Set<string> | undefined;
  let total = 0;
  line.set(`fetching ${repository}`);
  return {
    onEvent: (event) => {
      if (!line.enabled) return;
      if (event.type === "ConfigLoaded" && pending === undefined) {
        pending = new Set(event.applications);
        total = pending.size;
      } else if (event.type === "ConfigRejected" && pending === undefined) return line.done();
      else if (event.type === "SyncFinished") pending?.delete(event.application);
      if (pending === undefined) return;
      if (pending.size === 0) return line.done();
      line.set(`first sync: ${total - pending.size}/${total} applications done`);
    },
  };
}
