import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { Problem } from "../core/errors.js";
import { problemAt } from "../core/errors.js";
import type { ManifestFile } from "./load-files.js";
import type { AgeIdentity } from "../secrets/age.js";
import type { DecryptedFiles } from "../secrets/decrypt-files.js";
import { decryptManifestFiles, fileHoldsEncryptedContent } from "../secrets/decrypt-files.js";
import type { ParsedDocument } from "./parse-yaml.js";
import type { WorkerRequest } from "./parse-worker.js";
import { parseManifests, preParsed } from "./parse-yaml.js";

/**
 * Parsing off the agent's main thread. A large file takes the YAML parser
 * seconds (linear, and bounded by YAML_LIMITS, but seconds); on the main
 * thread that would stop the API, the other applications and self-heal
 * meanwhile. Files above INLINE_PARSE_BYTES go to a small pool of worker
 * threads, each with a memory limit and a time limit per file; a file that
 * passes either is refused, by name. Small files are parsed in place: they
 * take milliseconds.
 */

/** Files up to this size are parsed on the calling thread. */
export const INLINE_PARSE_BYTES = 64 * 1024;

/** What a parse worker may use for one file. */
export const PARSE_LIMITS = {
  /** Wall-clock time for one file. */
  timeoutMs: 60_000,
  /** Heap of one worker. */
  maxMemoryMb: 1024,
  /** Workers at most (fewer on a machine with fewer cores). */
  workers: 2,
} as const;

type ParseResult = { documents: ParsedDocument[]; problems: Problem[] };

interface Job {
  readonly request: WorkerRequest;
  /** The file named when the worker gives up. */
  readonly file: string;
  readonly done: (result: unknown) => void;
  readonly failed: (problem: Problem) => void;
}

/** One worker thread and the job it runs. */
class ParseWorker {
  readonly #worker: Worker;
  #job: Job | undefined;
  #timer: NodeJS.Timeout | undefined;
  #dead = false;

  constructor(private readonly pool: ParsePool) {
    this.#worker = new Worker(new URL("./parse-worker.js", import.meta.url), { resourceLimits: { maxOldGenerationSizeMb: PARSE_LIMITS.maxMemoryMb } });
    this.#worker.unref();
    this.#worker.on("message", (result: unknown) => this.#finish(result));
    this.#worker.on("error", (error: Error & { code?: string }) => {
      const message =
        error.code === "ERR_WORKER_OUT_OF_MEMORY"
          ? `parsing it needs more than ${PARSE_LIMITS.maxMemoryMb} MiB: split the file`
          : `cannot be parsed: ${error.message}`;
      this.#fail(message);
    });
    this.#worker.on("exit", () => this.#fail("cannot be parsed: the parser stopped"));
  }

  get idle(): boolean {
    return !this.#dead && this.#job === undefined;
  }

  get dead(): boolean {
    return this.#dead;
  }

  run(job: Job): void {
    this.#job = job;
    // Referenced while it works, so a command waiting on it is not cut short.
    this.#worker.ref();
    this.#timer = setTimeout(() => {
      this.#fail(`parsing it took longer than ${Math.round(PARSE_LIMITS.timeoutMs / 1000)} s: split the file`);
    }, PARSE_LIMITS.timeoutMs);
    this.#worker.postMessage(job.request);
  }

  #finish(result: unknown): void {
    const job = this.#job;
    this.#clear();
    job?.done(result);
    this.pool.next();
  }

  #fail(message: string): void {
    const job = this.#job;
    this.#clear();
    if (!this.#dead) {
      this.#dead = true;
      void this.#worker.terminate();
    }
    job?.failed(problemAt(`${job.file}: ${message}`, { file: job.file, line: 1, column: 1 }));
    this.pool.next();
  }

  #clear(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#job = undefined;
    this.#worker.unref();
  }
}

class ParsePool {
  readonly #workers: ParseWorker[] = [];
  readonly #queue: Job[] = [];
  readonly #size = Math.max(1, Math.min(PARSE_LIMITS.workers, availableParallelism()));

  /** Runs one request on a worker; `fallback` turns a worker that gave up (time, memory) into a result. */
  run<T>(request: WorkerRequest, file: string, fallback: (problem: Problem) => T): Promise<T> {
    return new Promise((resolve) => {
      this.#queue.push({ request, file, done: (result) => resolve(result as T), failed: (problem) => resolve(fallback(problem)) });
      this.next();
    });
  }

  next(): void {
    for (let i = this.#workers.length - 1; i >= 0; i--) if (this.#workers[i]?.dead) this.#workers.splice(i, 1);
    while (this.#queue.length > 0) {
      let worker = this.#workers.find((w) => w.idle);
      if (!worker && this.#workers.length < this.#size) {
        worker = new ParseWorker(this);
        this.#workers.push(worker);
      }
      const job = worker ? this.#queue.shift() : undefined;
      if (!worker || !job) return;
      worker.run(job);
    }
  }
}

const pool = new ParsePool();

/**
 * Parses the files (large ones on the worker pool, the others in place) and
 * keeps each result for `parseManifests`, which renderers call on the same
 * file objects: after this, rendering them parses nothing on the calling
 * thread. Resolves when every file is parsed; never rejects (a file the
 * worker gives up on gets a problem naming it).
 */
export async function parseOffThread(files: readonly ManifestFile[]): Promise<void> {
  await Promise.all(
    files.map(async (file) => {
      if (preParsed.has(file)) return;
      const result =
        file.content.length <= INLINE_PARSE_BYTES
          ? parseManifests(file)
          : await pool.run<ParseResult>({ kind: "parse", file }, file.path, (problem) => ({ documents: [], problems: [problem] }));
      preParsed.set(file, result);
    }),
  );
}

/**
 * decryptManifestFiles, off the calling thread when the files it would parse
 * (those holding encrypted content) are large: decrypting parses them with
 * the YAML parser. Small ones are decrypted in place.
 */
export async function decryptOffThread(files: readonly ManifestFile[], identities: readonly AgeIdentity[] | undefined): Promise<DecryptedFiles> {
  const encrypted = files.filter(fileHoldsEncryptedContent);
  if (encrypted.reduce((n, f) => n + f.content.length, 0) <= INLINE_PARSE_BYTES) return decryptManifestFiles(files, identities);
  const largest = encrypted.reduce((a, b) => (b.content.length > a.content.length ? b : a));
  const done = await pool.run<DecryptedFiles>({ kind: "decrypt", files: encrypted, identities }, largest.path, (problem) => ({ files: [], secret: new Map(), problems: [problem] }));
  // The files without encrypted content stay the objects they were, in their order.
  const decrypted = new Map(done.files.map((f) => [f.path, f]));
  const failed = new Set(encrypted.map((f) => f.path).filter((p) => !decrypted.has(p)));
  const out = files.flatMap((f) => (failed.has(f.path) ? [] : [decrypted.get(f.path) ?? f]));
  return { files: out, secret: done.secret, problems: done.problems };
}
