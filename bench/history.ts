/**
 * Benchmark: the history store at the size a busy agent reaches in a year.
 * Appends a year of events (200 applications in dev, acc and prd) through
 * `HistoryStore.append`, then times the three questions of `ferry history`
 * (an application's newest events, where a version ran, what ran at a time)
 * next to the same questions answered without the store's indexes, measured
 * in the same run on the same data. SQLite always; PostgreSQL when a
 * throwaway server can be started.
 *
 *   npm run bench     (200,000 events in SQLite, 20,000 in PostgreSQL: a few minutes)
 *   node dist/bench/history.js --events 1000000 --pg-events 100000   (--pg-events 0 skips PostgreSQL)
 */
import { mkdtemp, rm, stat } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";
import pg from "pg";
import { openHistory } from "../src/history/open-history.js";
import { numberPlaceholders } from "../src/history/postgres-database.js";
import type { HistoryEventInput, HistoryStore } from "../src/history/types.js";
import { createTestDatabase, startTestPostgres } from "../test/support/postgres.js";
import { median, percentile, timed } from "./measure.js";
import { seededRandom } from "../src/core/seeded-random.js";

const APPLICATIONS = 200;
const ENVIRONMENTS = ["dev", "acc", "prd"] as const;
/** How often a sync lands in each environment: dev churns, prd is promoted to. */
const ENVIRONMENT_WEIGHTS = [0.5, 0.3, 0.2];
const DAY_MS = 86_400_000;
const YEAR_MS = 365 * DAY_MS;
const START = Date.parse("2025-01-01T00:00:00.000Z");
const BATCH = 1000;
const AGENT = "bench-agent";
const RUNS = 50;
const BASELINE_RUNS = 5;
const COLUMNS = 10;

type Environment = (typeof ENVIRONMENTS)[number];
type Timings = { readonly indexed: number[]; readonly baseline: number[] };

/** A deployment seen while generating, to ask questions the data can answer. */
interface Deployed {
  readonly application: string;
  readonly version: string;
}

interface Stream {
  revision: string;
  digest: string;
  versions: string[];
  deployed: boolean;
}

/** One question of `ferry history`, asked through the store and, as a baseline, without indexes. */
interface Question {
  readonly name: string;
  /** Ids of the page the store answers with. */
  indexed(store: HistoryStore, run: number): Promise<number[]>;
  /** The same question as SQL over one table; `from` names the table without its indexes. */
  baseline(run: number, from: (table: string) => string): { sql: string; params: (string | number)[] };
}

/** Runs SQL without the store's indexes and returns the ids of the rows. */
type BaselineRunner = (sql: string, params: readonly (string | number)[]) => Promise<number[]>;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { events: { type: "string", default: "200000" }, "pg-events": { type: "string", default: "20000" } } });
  const events = count(values.events, "--events");
  const pgEvents = count(values["pg-events"], "--pg-events");
  const cpu = cpus();
  console.log(`\nhistory store (node ${process.version}, ${cpu.length} CPUs: ${cpu[0]?.model.trim() ?? "unknown"})`);
  console.log(`a year of one agent's events: ${APPLICATIONS} applications in ${ENVIRONMENTS.join("/")}, appended in batches of ${BATCH};`);
  console.log(`then ferry history's three questions, ${RUNS} runs each with varied parameters, against the same questions`);
  console.log(`answered without the store's indexes (${BASELINE_RUNS} runs each).`);

  const work = await mkdtemp(join(tmpdir(), "ferry-bench-history-"));
  try {
    const path = join(work, "history.db");
    const memory = new Database(":memory:");
    const version = (memory.prepare("SELECT sqlite_version() AS v").get() as { v: string }).v;
    memory.close();
    console.log(`\n== SQLite ${version}, ${events.toLocaleString("en")} events ==`);
    const year = await fill(`sqlite:${path}`, events);
    console.log(`file: ${await fileSize(path, events)}`);
    const store = await openHistory(`sqlite:${path}`);
    const db = new Database(path, { readonly: true });
    try {
      const baseline: BaselineRunner = async (sql, params) => (db.prepare(sql).all(...params) as { id: number }[]).map((r) => r.id);
      await compare(store, baseline, (table) => `${table} NOT INDEXED`, questions(year));
    } finally {
      db.close();
      await store.close();
    }
    console.log("baseline (SQLite): the same SQL with NOT INDEXED, which walks the table newest id first and stops at a full page.");
    console.log("versions are matched with LIKE on the JSON list in deployments.versions.");
    if (pgEvents > 0) await postgres(pgEvents);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The same run against a throwaway PostgreSQL server, or why there is none. */
async function postgres(events: number): Promise<void> {
  const server = await startTestPostgres();
  if ("skip" in server) {
    console.log(`\n== PostgreSQL: skipped: ${server.skip} ==`);
    return;
  }
  try {
    const database = await createTestDatabase(server);
    try {
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        const [row] = (await client.query<{ server_version: string }>("SHOW server_version")).rows;
        console.log(`\n== PostgreSQL ${row?.server_version ?? "?"} (local, fsync off), ${events.toLocaleString("en")} events ==`);
        const year = await fill(database.url, events);
        // What autovacuum would do soon after a load like this; without it the plans depend on when it ran.
        await client.query("ANALYZE");
        const size = (await client.query<{ size: string }>("SELECT pg_size_pretty(pg_database_size(current_database())) AS size")).rows[0]?.size;
        console.log(`database: ${size ?? "?"}`);
        for (const setting of ["enable_indexscan", "enable_bitmapscan", "enable_indexonlyscan"]) await client.query(`SET ${setting} = off`);
        const baseline: BaselineRunner = async (sql, params) => (await client.query<{ id: string }>(numberPlaceholders(sql), [...params])).rows.map((r) => Number(r.id));
        const store = await openHistory(database.url);
        try {
          await compare(store, baseline, (table) => table, questions(year));
        } finally {
          await store.close();
        }
        console.log("baseline (PostgreSQL): the same SQL with index and bitmap scans turned off: a sequential scan and a top-N sort.");
      } finally {
        await client.end();
      }
    } finally {
      await database.drop();
    }
  } finally {
    await server.stop();
  }
}

/** Appends a generated year of events to a fresh store; prints the rate; returns what was generated. */
async function fill(url: string, events: number): Promise<AgentYear> {
  const year = new AgentYear(events, 1);
  const store = await openHistory(url);
  const rates: number[] = [];
  let appending = 0;
  const start = performance.now();
  try {
    for (let done = 0; done < events; ) {
      const batch = year.take(Math.min(BATCH, events - done));
      const ms = await timed(() => store.append(batch, AGENT));
      appending += ms;
      rates.push(batch.length / (ms / 1000));
      done += batch.length;
    }
  } finally {
    await store.close();
  }
  const total = performance.now() - start;
  const tenth = Math.max(1, Math.floor(rates.length / 10));
  console.log(
    `append: ${rate(events / (appending / 1000))} events/s (${(appending / 1000).toFixed(1)} s appending, ${(total / 1000).toFixed(1)} s in all with generating and closing)`,
  );
  console.log(`        first tenth ${rate(median(rates.slice(0, tenth)))} events/s, last tenth ${rate(median(rates.slice(-tenth)))} events/s (median per batch)`);
  const mix = [...year.types].sort((a, b) => b[1] - a[1]).map(([type, n]) => `${type} ${((100 * n) / events).toFixed(0)}%`);
  console.log(`        ${mix.join(", ")}; ${year.deployments.toLocaleString("en")} deployments derived`);
  return year;
}

/** Times every question both ways, checks the two agree, and prints a table. */
async function compare(store: HistoryStore, baseline: BaselineRunner, from: (table: string) => string, asked: readonly Question[]): Promise<void> {
  console.log(`\n${"question".padEnd(58)} ${"indexed ms".padStart(COLUMNS)} ${"p95".padStart(8)} ${"no index ms".padStart(COLUMNS + 1)} ${"p95".padStart(8)} ${"x faster".padStart(COLUMNS)}`);
  for (const question of asked) {
    const timings: Timings = { indexed: [], baseline: [] };
    await question.indexed(store, RUNS); // warm up: statements prepared, pages cached
    for (let run = 0; run < RUNS; run++) timings.indexed.push(await timed(() => question.indexed(store, run)));
    for (let run = 0; run < BASELINE_RUNS; run++) {
      const { sql, params } = question.baseline(run, from);
      let rows: number[] = [];
      timings.baseline.push(await timed(async () => (rows = await baseline(sql, params))));
      const ids = await question.indexed(store, run);
      if (ids.length !== Math.min(rows.length, 50) || ids.join() !== rows.slice(0, ids.length).join()) {
        throw new Error(`${question.name}, run ${run}: the store answered ${ids.length} ids, the baseline ${rows.length}, and they differ`);
      }
    }
    const ratio = median(timings.baseline) / median(timings.indexed);
    console.log(
      `${question.name.padEnd(58)} ${median(timings.indexed).toFixed(2).padStart(COLUMNS)} ${percentile(timings.indexed, 95).toFixed(2).padStart(8)} ${median(timings.baseline).toFixed(2).padStart(COLUMNS + 1)} ${percentile(timings.baseline, 95).toFixed(2).padStart(8)} ${ratio.toFixed(ratio < 10 ? 1 : 0).padStart(COLUMNS)}`,
    );
  }
}

/** The questions `ferry history` asks, each with parameters varied by run. */
function questions(year: AgentYear): Question[] {
  const pick = seededRandom(7);
  const params = Array.from({ length: RUNS + 1 }, () => {
    const deployed = year.sampled(pick);
    return {
      application: appName(Math.floor(pick() * APPLICATIONS)),
      environment: ENVIRONMENTS[Math.floor(pick() * ENVIRONMENTS.length)] ?? "dev",
      since: START + Math.floor(pick() * (YEAR_MS - 7 * DAY_MS)),
      at: START + Math.floor(pick() * YEAR_MS),
      version: deployed.version,
    };
  });
  const p = (run: number): NonNullable<(typeof params)[number]> => params[run] ?? params[0]!;
  const ids = (page: { items: readonly { id: number }[] }): number[] => page.items.map((i) => i.id);
  const page = "ORDER BY id DESC LIMIT 51";
  return [
    {
      name: "history <app>: newest 50 events",
      indexed: async (store, run) => ids(await store.events({ application: p(run).application, limit: 50 })),
      baseline: (run, from) => ({ sql: `SELECT * FROM ${from("events")} WHERE application = ? ${page}`, params: [p(run).application] }),
    },
    {
      name: "history <app> --env E --since/--until (7 days)",
      indexed: async (store, run) => {
        const { application, environment, since } = p(run);
        return ids(await store.events({ application, environment, since: new Date(since), until: new Date(since + 7 * DAY_MS), limit: 50 }));
      },
      baseline: (run, from) => {
        const { application, environment, since } = p(run);
        return {
          sql: `SELECT * FROM ${from("events")} WHERE application = ? AND environment = ? AND at >= ? AND at < ? ${page}`,
          params: [application, environment, since, since + 7 * DAY_MS],
        };
      },
    },
    {
      name: "history --version V: where it ran",
      indexed: async (store, run) => ids(await store.deployments({ version: p(run).version, limit: 50 })),
      baseline: (run, from) => ({ sql: `SELECT * FROM ${from("deployments")} WHERE versions LIKE ? ${page}`, params: [`%${JSON.stringify(p(run).version)}%`] }),
    },
    {
      name: "history <app> --at T: what ran then",
      indexed: async (store, run) => ids(await store.deployments({ application: p(run).application, at: new Date(p(run).at), limit: 50 })),
      baseline: (run, from) => ({
        sql: `SELECT * FROM ${from("deployments")} WHERE application = ? AND started_at <= ? AND (ended_at IS NULL OR ended_at > ?) ${page}`,
        params: [p(run).application, p(run).at, p(run).at],
      }),
    },
    {
      name: "history <app> --env E --at T",
      indexed: async (store, run) => {
        const { application, environment, at } = p(run);
        return ids(await store.deployments({ application, environment, at: new Date(at), limit: 50 }));
      },
      baseline: (run, from) => ({
        sql: `SELECT * FROM ${from("deployments")} WHERE application = ? AND environment = ? AND started_at <= ? AND (ended_at IS NULL OR ended_at > ?) ${page}`,
        params: [p(run).application, p(run).environment, p(run).at, p(run).at],
      }),
    },
  ];
}

/**
 * A year of one agent's history, generated in time order and the same on
 * every run: busy and quiet applications (Zipf-like), syncs that mostly
 * change nothing, one in five that deploys (dev gets new versions, acc takes
 * dev's, prd takes acc's), a sidecar version shared by half the applications,
 * and drift that self-heal mostly corrects.
 */
class AgentYear {
  deployments = 0;
  /** How many events of each type were generated. */
  readonly types = new Map<string, number>();
  readonly #rnd: () => number;
  readonly #cumulative: number[] = [];
  readonly #streams = new Map<string, Stream>();
  readonly #appVersions: { major: number; minor: number; patch: number }[] = [];
  readonly #pending: HistoryEventInput[] = [];
  readonly #sample: Deployed[] = [];
  readonly #meanGapMs: number;
  #seen = 0;
  #time = START;
  #sidecar = 1;
  #nextSidecar = START + 30 * DAY_MS;

  constructor(events: number, seed: number) {
    this.#rnd = seededRandom(seed);
    // About 1.4 events per step (a sync, sometimes announced; drift, mostly corrected).
    this.#meanGapMs = YEAR_MS / (events / 1.4);
    let sum = 0;
    for (let i = 0; i < APPLICATIONS; i++) {
      sum += 1 / (i + 1) ** 0.7;
      this.#cumulative.push(sum);
      this.#appVersions.push({ major: 1 + Math.floor(this.#rnd() * 3), minor: Math.floor(this.#rnd() * 20), patch: 0 });
    }
  }

  /** The next `n` events, oldest first. */
  take(n: number): HistoryEventInput[] {
    while (this.#pending.length < n) this.#step();
    const events = this.#pending.splice(0, n);
    for (const event of events) {
      this.types.set(event.type, (this.types.get(event.type) ?? 0) + 1);
      if (event.changed) this.deployments += 1;
    }
    return events;
  }

  /** A deployment that happened (a uniform sample of all of them). */
  sampled(pick: () => number): Deployed {
    const sample = this.#sample[Math.floor(pick() * this.#sample.length)];
    if (!sample) throw new Error("no deployment was generated: ask for more events");
    return sample;
  }

  #step(): void {
    const rnd = this.#rnd;
    this.#time += -Math.log(1 - rnd()) * this.#meanGapMs;
    if (this.#time > this.#nextSidecar) {
      this.#sidecar += 1;
      this.#nextSidecar += 30 * DAY_MS;
    }
    const appIndex = this.#pickApplication();
    const application = appName(appIndex);
    const environment = pickWeighted(rnd(), ENVIRONMENT_WEIGHTS, ENVIRONMENTS);
    const stream = this.#stream(application, environment);
    const at = Math.floor(this.#time);
    const time = new Date(at).toISOString();
    const target = `k8s-${environment}`;
    const key = `apps/Deployment/${environment}/${application}`;
    if (rnd() < 0.8) {
      const changed = !stream.deployed || rnd() < 0.2;
      if (changed) this.#deploy(appIndex, environment, stream);
      const trigger = changed ? "revision" : rnd() < 0.5 ? "interval" : "manual";
      const durationMs = 200 + Math.floor(rnd() * 5000);
      if (changed || rnd() < 0.15) this.#pending.push({ type: "SyncStarted", at: time, application, environment, revision: stream.revision, trigger });
      const failed = rnd() < 0.03;
      this.#pending.push({
        type: "SyncFinished",
        at: new Date(at + durationMs).toISOString(),
        application,
        environment,
        target,
        revision: stream.revision,
        digest: stream.digest,
        versions: stream.versions,
        outcome: failed ? "Failed" : "Succeeded",
        reason: failed ? "HealthCheckFailed" : "Succeeded",
        message: `applied revision ${stream.revision.slice(0, 8)}: ${changed ? "1 configured, " : ""}${changed ? 5 : 6} unchanged`,
        trigger,
        author: AUTHORS[Math.floor(rnd() * AUTHORS.length)] ?? "",
        subject: `${application}: release ${stream.versions[0] ?? ""}`,
        durationMs,
        changed,
        details: {
          changeSet: { created: [], configured: changed ? [key] : [], deleted: [], failed: [], unchanged: changed ? 5 : 6 },
          commitTime: new Date(at - 60_000 - Math.floor(rnd() * 3_600_000)).toISOString(),
        },
      });
    } else {
      const objects = [{ key, fields: rnd() < 0.5 ? ["spec.replicas"] : ["spec.template.spec.containers[0].env"] }];
      this.#pending.push({
        type: "DriftDetected",
        at: time,
        application,
        environment,
        revision: stream.revision,
        message: "1 object differs from Git",
        details: { selfHeal: true, objects },
      });
      if (rnd() < 0.75) {
        this.#pending.push({
          type: "DriftCorrected",
          at: new Date(at + 1500).toISOString(),
          application,
          environment,
          revision: stream.revision,
          message: "1 object put back as Git says",
          details: { objects: [key] },
        });
      }
    }
  }

  /** A new rendered state for the stream: a new commit, and the version its environment takes. */
  #deploy(appIndex: number, environment: Environment, stream: Stream): void {
    const application = appName(appIndex);
    const v = this.#appVersions[appIndex]!;
    let version: string;
    if (environment === "dev") {
      if (this.#rnd() < 0.1) {
        v.minor += 1;
        v.patch = 0;
      } else v.patch += 1;
      version = `${v.major}.${v.minor}.${v.patch}`;
    } else {
      const from = this.#stream(application, environment === "acc" ? "dev" : "acc");
      version = from.versions[0] ?? `${v.major}.${v.minor}.${v.patch}`;
    }
    stream.versions = appIndex % 2 === 0 ? [version, `v1.${this.#sidecar}.0`].sort() : [version];
    stream.revision = hex(this.#rnd, 40);
    stream.digest = `sha256:${hex(this.#rnd, 64)}`;
    stream.deployed = true;
    // Reservoir sampling: every deployment equally likely to be asked about.
    const seen = ++this.#seen;
    const sample = { application, version: stream.versions[Math.floor(this.#rnd() * stream.versions.length)] ?? version };
    if (this.#sample.length < 1000) this.#sample.push(sample);
    else if (this.#rnd() < 1000 / seen) this.#sample[Math.floor(this.#rnd() * 1000)] = sample;
  }

  #stream(application: string, environment: Environment): Stream {
    const key = `${application}/${environment}`;
    let stream = this.#streams.get(key);
    if (!stream) {
      stream = { revision: hex(this.#rnd, 40), digest: "", versions: [], deployed: false };
      this.#streams.set(key, stream);
    }
    return stream;
  }

  #pickApplication(): number {
    const total = this.#cumulative[this.#cumulative.length - 1] ?? 1;
    const r = this.#rnd() * total;
    let low = 0;
    let high = this.#cumulative.length - 1;
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((this.#cumulative[mid] ?? 0) < r) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}

const AUTHORS = ["Ada Lovelace", "Grace Hopper", "Linus Torvalds", "Margaret Hamilton", "Ken Thompson", "Barbara Liskov", "Dennis Ritchie", "Frances Allen"];

function appName(index: number): string {
  return `app-${String(index + 1).padStart(3, "0")}`;
}

function pickWeighted<T>(r: number, weights: readonly number[], values: readonly T[]): T {
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    sum += weights[i] ?? 0;
    if (r < sum) return values[i]!;
  }
  return values[values.length - 1]!;
}

/** mulberry32: small, fast, and the same sequence for the same seed. */

function hex(rnd: () => number, length: number): string {
  let out = "";
  while (out.length < length) out += Math.floor(rnd() * 0x100000000).toString(16).padStart(8, "0");
  return out.slice(0, length);
}

function count(text: string | undefined, name: string): number {
  const value = Number((text ?? "").replace(/_/g, ""));
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name}: expected a whole number of events, got ${JSON.stringify(text)}`);
  return value;
}

async function fileSize(path: string, events: number): Promise<string> {
  const sizes = await Promise.all(["", "-wal"].map(async (suffix) => (await stat(`${path}${suffix}`).catch(() => undefined))?.size ?? 0));
  const [db = 0, wal = 0] = sizes;
  const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  const perEvent = events > 0 ? `, ${(db / events / 1024).toFixed(2)} KB per event` : "";
  return `${mb(db)}${wal > 0 ? ` (+ ${mb(wal)} WAL)` : ""}${perEvent}`;
}

function rate(perSecond: number): string {
  return Math.round(perSecond).toLocaleString("en");
}




await main();
