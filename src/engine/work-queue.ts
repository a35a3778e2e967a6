/**
 * One queue for every trigger. Keys are deduplicated while they wait; a key is
 * handled by one worker at a time, and a key added while it is being handled
 * runs once more afterwards. Delayed adds keep the earliest due time. Keys
 * fall into groups (the engine's: one per target), and the concurrency bounds
 * each group on its own: a group whose work hangs (a cluster that never
 * answers) holds only its own workers, never another group's.
 */
export class WorkQueue<T> {
  readonly #handler: (key: string, reasons: readonly T[]) => Promise<void>;
  readonly #concurrency: number;
  /** Keys ready to run, in order, with the reasons they were added for. */
  readonly #ready = new Map<string, T[]>();
  readonly #running = new Set<string>();
  /** Keys running per group. */
  readonly #busy = new Map<string, number>();
  readonly #groupOf: (key: string) => string;
  /** Keys added while running: they go back to ready when the run ends. */
  readonly #dirty = new Map<string, T[]>();
  readonly #timers = new Map<string, { due: number; timer: NodeJS.Timeout; reasons: T[] }>();
  #idleWaiters: (() => void)[] = [];
  #stopped = false;

  /** `concurrency` keys of one group run at once; `groupOf` names a key's group (default: one group for all). */
  constructor(handler: (key: string, reasons: readonly T[]) => Promise<void>, concurrency = 4, groupOf: (key: string) => string = () => "") {
    this.#handler = handler;
    this.#concurrency = Math.max(1, concurrency);
    this.#groupOf = groupOf;
  }

  /** Adds a key now. */
  add(key: string, reason: T): void {
    this.#addAll(key, [reason]);
  }

  #addAll(key: string, reasons: readonly T[]): void {
    if (this.#stopped) return;
    if (this.#running.has(key)) {
      this.#dirty.set(key, [...(this.#dirty.get(key) ?? []), ...reasons]);
      return;
    }
    this.#ready.set(key, [...(this.#ready.get(key) ?? []), ...reasons]);
    this.#pump();
  }

  /** Adds a key after a delay; an earlier pending delay for the key wins. */
  addAfter(key: string, reason: T, delayMs: number): void {
    if (this.#stopped) return;
    const due = Date.now() + delayMs;
    const pending = this.#timers.get(key);
    if (pending && pending.due <= due) {
      pending.reasons.push(reason);
      return;
    }
    if (pending) clearTimeout(pending.timer);
    const reasons = [...(pending?.reasons ?? []), reason];
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.#addAll(key, reasons);
    }, delayMs);
    timer.unref();
    this.#timers.set(key, { due, timer, reasons });
  }

  /** Keys waiting or running (delayed ones not counted). */
  get depth(): number {
    return this.#ready.size + this.#running.size;
  }

  /** Resolves when nothing is ready or running (delayed adds may still be pending). */
  whenIdle(): Promise<void> {
    if (this.depth === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Drops pending work and timers; runs in progress finish. */
  stop(): void {
    this.#stopped = true;
    this.#ready.clear();
    this.#dirty.clear();
    for (const { timer } of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#notifyIdle();
  }

  /** Starts every ready key, in order, whose group has a free worker. */
  #pump(): void {
    const full = new Set<string>();
    for (const [key, reasons] of this.#ready) {
      const group = this.#groupOf(key);
      if (full.has(group)) continue;
      const busy = this.#busy.get(group) ?? 0;
      if (busy >= this.#concurrency) {
        full.add(group);
        continue;
      }
      this.#ready.delete(key);
      this.#running.add(key);
      this.#busy.set(group, busy + 1);
      void this.#run(key, group, reasons);
    }
  }

  async #run(key: string, group: string, reasons: readonly T[]): Promise<void> {
    try {
      await this.#handler(key, reasons);
    } catch (error) {
      // The handler owns error reporting; this only keeps one failure from stopping the queue.
      console.error(`work on ${key} failed:`, error);
    } finally {
      this.#running.delete(key);
      const busy = (this.#busy.get(group) ?? 1) - 1;
      if (busy > 0) this.#busy.set(group, busy);
      else this.#busy.delete(group);
      const again = this.#dirty.get(key);
      this.#dirty.delete(key);
      if (again && !this.#stopped) this.#ready.set(key, [...(this.#ready.get(key) ?? []), ...again]);
      this.#pump();
      this.#notifyIdle();
    }
  }

  #notifyIdle(): void {
    if (this.depth !== 0 && !this.#stopped) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}
