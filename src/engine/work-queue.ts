/**
 * One queue for every trigger. Keys are deduplicated while they wait; a key is
 * handled by one worker at a time, and a key added while it is being handled
 * runs once more afterwards. Delayed adds keep the earliest due time. Keys
 * fall into groups (the engine's: one per target), and the concurrency bounds
 * each group on its own: a group whose work hangs (a cluster that never
 * answers) holds only its own workers, never another group's. One timer
 * serves every delayed key (the earliest due), so ten thousand keys with an
 * interval cost one timer, not ten thousand.
 */
export class WorkQueue<T> {
  readonly #handler: (key: string, reasons: readonly T[]) => Promise<void>;
  readonly #concurrency: number;
  /** Keys ready to run, in order, with the reasons they were added for. */
  readonly #ready = new Map<string, T[]>();
  /** The same keys by group, in order: starting work costs what it starts, not every key waiting. */
  readonly #readyIn = new Map<string, Set<string>>();
  readonly #running = new Set<string>();
  /** Keys running per group. */
  readonly #busy = new Map<string, number>();
  readonly #groupOf: (key: string) => string;
  /** Keys added while running: they go back to ready when the run ends. */
  readonly #dirty = new Map<string, T[]>();
  readonly #delayed = new Map<string, { due: number; reasons: T[] }>();
  /** Due times of delayed keys, earliest first (a min-heap); entries whose key was re-added earlier are skipped. */
  readonly #dues: { due: number; key: string }[] = [];
  #timer: NodeJS.Timeout | undefined;
  #timerDue = Infinity;
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
    this.#makeReady(key, reasons);
    this.#pump();
  }

  /** Adds a key after a delay; an earlier pending delay for the key wins. */
  addAfter(key: string, reason: T, delayMs: number): void {
    if (this.#stopped) return;
    const due = Date.now() + delayMs;
    const pending = this.#delayed.get(key);
    if (pending && pending.due <= due) {
      pending.reasons.push(reason);
      return;
    }
    this.#delayed.set(key, { due, reasons: [...(pending?.reasons ?? []), reason] });
    pushHeap(this.#dues, { due, key });
    this.#arm();
  }

  /** Keys waiting for a delayed add. */
  get delayedCount(): number {
    return this.#delayed.size;
  }

  /** Sets the one timer to the earliest due time. */
  #arm(): void {
    const next = this.#peekDue();
    if (next === this.#timerDue) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerDue = next;
    if (next === Infinity) return;
    this.#timer = setTimeout(() => this.#fire(), Math.min(MAX_TIMEOUT_MS, Math.max(0, next - Date.now())));
    this.#timer.unref();
  }

  #peekDue(): number {
    for (;;) {
      const top = this.#dues[0];
      if (!top) return Infinity;
      if (this.#delayed.get(top.key)?.due === top.due) return top.due;
      popHeap(this.#dues);
    }
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerDue = Infinity;
    const now = Date.now();
    while (this.#peekDue() <= now) {
      const top = popHeap(this.#dues);
      if (!top) break;
      const entry = this.#delayed.get(top.key);
      if (!entry) continue;
      this.#delayed.delete(top.key);
      this.#addAll(top.key, entry.reasons);
    }
    if (!this.#stopped) this.#arm();
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
    this.#readyIn.clear();
    this.#dirty.clear();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerDue = Infinity;
    this.#delayed.clear();
    this.#dues.length = 0;
    this.#notifyIdle();
  }

  /** Makes a key ready (with more reasons when it already is), in its group's order. */
  #makeReady(key: string, reasons: readonly T[]): void {
    const before = this.#ready.get(key);
    this.#ready.set(key, [...(before ?? []), ...reasons]);
    if (before) return;
    const group = this.#groupOf(key);
    const keys = this.#readyIn.get(group);
    if (keys) keys.add(key);
    else this.#readyIn.set(group, new Set([key]));
  }

  /** Starts every ready key, in order, whose group has a free worker. */
  #pump(): void {
    for (const [group, keys] of this.#readyIn) {
      let busy = this.#busy.get(group) ?? 0;
      for (const key of keys) {
        if (busy >= this.#concurrency) break;
        keys.delete(key);
        const reasons = this.#ready.get(key) ?? [];
        this.#ready.delete(key);
        this.#running.add(key);
        busy++;
        this.#busy.set(group, busy);
        void this.#run(key, group, reasons);
      }
      if (keys.size === 0) this.#readyIn.delete(group);
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
      if (again && !this.#stopped) this.#makeReady(key, again);
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

/** setTimeout's longest delay; a later due time is reached by firing early and arming again. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

function pushHeap(heap: { due: number; key: string }[], item: { due: number; key: string }): void {
  heap.push(item);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const [p, c] = [heap[parent], heap[i]];
    if (!p || !c || p.due <= c.due) break;
    heap[parent] = c;
    heap[i] = p;
    i = parent;
  }
}

function popHeap(heap: { due: number; key: string }[]): { due: number; key: string } | undefined {
  const top = heap[0];
  const last = heap.pop();
  if (heap.length === 0 || !last) return top;
  heap[0] = last;
  let i = 0;
  for (;;) {
    const left = 2 * i + 1;
    const right = left + 1;
    let smallest = i;
    if ((heap[left]?.due ?? Infinity) < (heap[smallest]?.due ?? Infinity)) smallest = left;
    if ((heap[right]?.due ?? Infinity) < (heap[smallest]?.due ?? Infinity)) smallest = right;
    if (smallest === i) break;
    const [a, b] = [heap[i], heap[smallest]];
    if (!a || !b) break;
    heap[i] = b;
    heap[smallest] = a;
    i = smallest;
  }
  return top;
}
