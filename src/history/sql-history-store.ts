import { migrate } from "./migrations.js";
import type { SqlDatabase, SqlExecutor, SqlRow, SqlValue } from "./sql-database.js";
import { integer, optionalInteger, text } from "./sql-database.js";
import type { Deployment, DeploymentQuery, HistoryEntry, HistoryEventInput, HistoryEventType, HistoryQuery, HistoryStore, Hold, Page } from "./types.js";
import { pageSize } from "./types.js";

/** Appended events between refreshes of the planner's statistics. */
const OPTIMIZE_EVERY = 50_000;

const EVENT_COLUMNS =
  "id, at, type, application, environment, target, revision, digest, versions, outcome, reason, message, triggered_by, author, subject, duration_ms, details, related_id, agent";
const DEPLOYMENT_COLUMNS =
  "id, application, environment, target, revision, digest, versions, started_at, ended_at, author, subject, outcome, event_id, rollback_id, agent";

/**
 * The history over SQL: the same statements on SQLite and PostgreSQL.
 * Appending a SyncFinished that changed the target closes the application's
 * open deployment and opens the next one, in the same transaction.
 */
export class SqlHistoryStore implements HistoryStore {
  readonly #db: SqlDatabase;
  #appendedSinceOptimize = 0;

  private constructor(db: SqlDatabase) {
    this.#db = db;
  }

  /** Opens a store over a database, migrating its schema first. */
  static async open(db: SqlDatabase): Promise<SqlHistoryStore> {
    try {
      await migrate(db);
    } catch (error) {
      await db.close().catch(() => undefined);
      throw error;
    }
    db.optimize?.();
    return new SqlHistoryStore(db);
  }

  get location(): string {
    return this.#db.location;
  }

  async append(events: readonly HistoryEventInput[], agent: string): Promise<number[]> {
    if (events.length === 0) return [];
    const ids = await this.#db.transaction((tx) => appendAll(tx, events, agent));
    // Without statistics the planner can pick a poor index as the tables grow.
    this.#appendedSinceOptimize += events.length;
    if (this.#appendedSinceOptimize >= OPTIMIZE_EVERY) {
      this.#appendedSinceOptimize = 0;
      this.#db.optimize?.();
    }
    return ids;
  }

  async events(query: HistoryQuery): Promise<Page<HistoryEntry>> {
    const { add, where, params } = conditions();
    if (query.application !== undefined) add("application = ?", query.application);
    if (query.environment !== undefined) add("environment = ?", query.environment);
    if (query.version !== undefined) add("id IN (SELECT event_id FROM event_versions WHERE version = ?)", query.version);
    if (query.outcome !== undefined) add("outcome = ?", query.outcome);
    if (query.types && query.types.length > 0) add(`type IN (${query.types.map(() => "?").join(", ")})`, ...query.types);
    if (query.revision !== undefined) add("revision >= ? AND revision < ?", ...prefixRange(query.revision));
    if (query.since) add("at >= ?", query.since.getTime());
    if (query.until) add("at < ?", query.until.getTime());
    if (query.before !== undefined) add("id < ?", query.before);
    const limit = pageSize(query.limit);
    const rows = await this.#db.all(
      `SELECT ${EVENT_COLUMNS} FROM events${where.length > 0 ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`,
      [...params, limit + 1],
    );
    return page(rows.map(toEntry), limit);
  }

  async event(id: number): Promise<HistoryEntry | undefined> {
    const [row] = await this.#db.all(`SELECT ${EVENT_COLUMNS} FROM events WHERE id = ?`, [id]);
    return row ? toEntry(row) : undefined;
  }

  async deployments(query: DeploymentQuery): Promise<Page<Deployment>> {
    const { add, where, params } = conditions();
    if (query.application !== undefined) add("application = ?", query.application);
    if (query.environment !== undefined) add("environment = ?", query.environment);
    if (query.version !== undefined) add("id IN (SELECT deployment_id FROM deployment_versions WHERE version = ?)", query.version);
    if (query.revision !== undefined) add("revision >= ? AND revision < ?", ...prefixRange(query.revision));
    if (query.at) add("started_at <= ? AND (ended_at IS NULL OR ended_at > ?)", query.at.getTime(), query.at.getTime());
    if (query.before !== undefined) add("id < ?", query.before);
    const limit = pageSize(query.limit);
    const rows = await this.#db.all(
      `SELECT ${DEPLOYMENT_COLUMNS} FROM deployments${where.length > 0 ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`,
      [...params, limit + 1],
    );
    return page(rows.map(toDeployment), limit);
  }

  async hold(hold: Hold): Promise<void> {
    await this.#db.run(
      "INSERT INTO holds (application, reason, since, event_id) VALUES (?, ?, ?, ?) ON CONFLICT (application) DO UPDATE SET reason = excluded.reason, since = excluded.since, event_id = excluded.event_id",
      [hold.application, hold.reason, Date.parse(hold.since), hold.eventId ?? null],
    );
  }

  async release(application: string): Promise<boolean> {
    return (await this.#db.run("DELETE FROM holds WHERE application = ?", [application])) > 0;
  }

  async holds(): Promise<Hold[]> {
    const rows = await this.#db.all("SELECT application, reason, since, event_id FROM holds ORDER BY application");
    return rows.map((r) => {
      const eventId = optionalInteger(r.event_id);
      return { application: String(r.application), reason: String(r.reason), since: iso(r.since), ...(eventId !== undefined ? { eventId } : {}) };
    });
  }

  prune(before: Date): Promise<number> {
    const cutoff = before.getTime();
    return this.#db.transaction(async (tx) => {
      await tx.run("DELETE FROM event_versions WHERE event_id IN (SELECT id FROM events WHERE at < ?)", [cutoff]);
      const removed = await tx.run("DELETE FROM events WHERE at < ?", [cutoff]);
      await tx.run("DELETE FROM deployment_versions WHERE deployment_id IN (SELECT id FROM deployments WHERE ended_at < ?)", [cutoff]);
      await tx.run("DELETE FROM deployments WHERE ended_at < ?", [cutoff]);
      return removed;
    });
  }

  close(): Promise<void> {
    return this.#db.close();
  }
}

/** Rows per multi-row INSERT, largest first: a batch is cut into these so only a few statements are ever prepared. */
const CHUNKS = [250, 25, 1] as const;

const EVENT_INSERT_COLUMNS =
  "at, type, application, environment, target, revision, digest, versions, outcome, reason, message, triggered_by, author, subject, duration_ms, details, related_id, agent";

/** One event as the values of its row, checked. */
interface EventRow {
  readonly event: HistoryEventInput;
  readonly at: number;
  readonly environment: string;
  readonly versions: readonly string[];
  readonly values: readonly SqlValue[];
}

function eventRow(event: HistoryEventInput, agent: string): EventRow {
  const at = Date.parse(event.at);
  if (Number.isNaN(at)) throw new Error(`history event ${event.type} has an invalid time ${JSON.stringify(event.at)}`);
  const environment = event.environment ?? "";
  const versions = [...new Set(event.versions ?? [])].sort();
  const values: SqlValue[] = [
    at,
    event.type,
    event.application ?? null,
    environment,
    event.target ?? null,
    event.revision ?? null,
    event.digest ?? null,
    versions.length > 0 ? JSON.stringify(versions) : null,
    event.outcome ?? null,
    event.reason ?? null,
    event.message ?? null,
    event.trigger ?? null,
    event.author ?? null,
    event.subject ?? null,
    event.durationMs ?? null,
    event.details ? JSON.stringify(event.details) : null,
    event.relatedId ?? null,
    agent,
  ];
  return { event, at, environment, versions, values };
}

/**
 * Inserts rows a chunk at a time (one statement per chunk, not per row:
 * over a network each statement is a round trip). Returns what each chunk's
 * RETURNING gave, in order.
 */
async function insertRows(tx: SqlExecutor, head: string, width: number, rows: readonly (readonly SqlValue[])[], returning: string): Promise<SqlRow[]> {
  const out: SqlRow[] = [];
  const tuple = `(${Array.from({ length: width }, () => "?").join(", ")})`;
  let offset = 0;
  for (const size of CHUNKS) {
    const values = Array.from({ length: size }, () => tuple).join(", ");
    while (rows.length - offset >= size) {
      const chunk = rows.slice(offset, offset + size);
      const sql = `${head} VALUES ${values}${returning}`;
      if (returning) out.push(...(await tx.all(sql, chunk.flat())));
      else await tx.run(sql, chunk.flat());
      offset += size;
    }
  }
  return out;
}

/**
 * Appends events in order: their rows in multi-row INSERTs, then what each
 * means for deployments, one event after another.
 */
async function appendAll(tx: SqlExecutor, events: readonly HistoryEventInput[], agent: string): Promise<number[]> {
  const rows = events.map((event) => eventRow(event, agent));
  const returned = await insertRows(tx, `INSERT INTO events (${EVENT_INSERT_COLUMNS})`, 18, rows.map((r) => r.values), " RETURNING id");
  // Ids are handed out in the order of the VALUES; RETURNING need not list them in that order.
  const ids = returned.map((r) => integer(r.id)).sort((a, b) => a - b);
  if (ids.length !== rows.length) throw new Error(`history append stored ${ids.length} of ${rows.length} events`);
  const versionRows = rows.flatMap((row, i) => row.versions.map((version): SqlValue[] => [version, ids[i] ?? null]));
  await insertRows(tx, "INSERT INTO event_versions (version, event_id)", 2, versionRows, "");
  for (const [i, row] of rows.entries()) {
    const { event } = row;
    const id = ids[i] ?? 0;
    if (event.application === undefined) continue;
    // A sync that changed the target starts a deployment; so does one that succeeded at a state the
    // ledger does not show running (its first sync was applied but never recorded: the agent died).
    if (event.type === "SyncFinished" && (event.changed || event.outcome === "Succeeded") && event.revision && event.digest) {
      await startDeployment(tx, { ...event, application: event.application, revision: event.revision, digest: event.digest }, { id, at: row.at, environment: row.environment, versions: row.versions, agent });
    } else if (event.type === "ApplicationRemoved") {
      await tx.run("UPDATE deployments SET ended_at = ? WHERE application = ? AND environment = ? AND ended_at IS NULL", [row.at, event.application, row.environment]);
    }
  }
  return ids;
}

/** Closes the open deployment and opens one for this sync, unless the rendered state is the same. */
async function startDeployment(
  tx: SqlExecutor,
  event: HistoryEventInput & { readonly application: string; readonly revision: string; readonly digest: string },
  stored: { readonly id: number; readonly at: number; readonly environment: string; readonly versions: readonly string[]; readonly agent: string },
): Promise<void> {
  const [open] = await tx.all("SELECT id, digest FROM deployments WHERE application = ? AND environment = ? AND ended_at IS NULL", [
    event.application,
    stored.environment,
  ]);
  if (open && open.digest === event.digest) return;
  if (open) await tx.run("UPDATE deployments SET ended_at = ? WHERE id = ?", [stored.at, integer(open.id)]);
  // Only a rollback recorded before this event: later events of the same batch are already in the table.
  const [rollback] = await tx.all("SELECT id FROM events WHERE revision = ? AND type = 'Rollback' AND application = ? AND id < ? ORDER BY id DESC LIMIT 1", [
    event.revision,
    event.application,
    stored.id,
  ]);
  const rollbackId = rollback ? integer(rollback.id) : null;
  const deploymentId = await tx.insert(
    `INSERT INTO deployments (application, environment, target, revision, digest, versions, started_at, ended_at, author, subject, outcome, event_id, rollback_id, agent)
     VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?) RETURNING id`,
    [
      event.application,
      stored.environment,
      event.target ?? null,
      event.revision,
      event.digest,
      JSON.stringify(stored.versions),
      stored.at,
      event.author ?? null,
      event.subject ?? null,
      event.outcome ?? null,
      stored.id,
      rollbackId,
      stored.agent,
    ],
  );
  await insertRows(tx, "INSERT INTO deployment_versions (version, deployment_id)", 2, stored.versions.map((version) => [version, deploymentId]), "");
  if (rollbackId !== null) await tx.run("UPDATE events SET related_id = ? WHERE id = ?", [rollbackId, stored.id]);
}

/** WHERE clauses and their parameters, added together so they stay in step. */
function conditions(): { add: (clause: string, ...values: SqlValue[]) => void; where: string[]; params: SqlValue[] } {
  const where: string[] = [];
  const params: SqlValue[] = [];
  return {
    where,
    params,
    add: (clause, ...values) => {
      where.push(clause);
      params.push(...values);
    },
  };
}

function page<T extends { readonly id: number }>(items: T[], limit: number): Page<T> {
  if (items.length <= limit) return { items };
  const kept = items.slice(0, limit);
  return { items: kept, next: kept[kept.length - 1]?.id };
}

function toEntry(row: SqlRow): HistoryEntry {
  const entry: Record<string, unknown> = {
    id: integer(row.id),
    at: iso(row.at),
    type: String(row.type) as HistoryEventType,
    agent: String(row.agent),
    application: text(row.application),
    environment: text(row.environment) || undefined,
    target: text(row.target),
    revision: text(row.revision),
    digest: text(row.digest),
    versions: row.versions ? (JSON.parse(String(row.versions)) as string[]) : undefined,
    outcome: text(row.outcome),
    reason: text(row.reason),
    message: text(row.message),
    trigger: text(row.triggered_by),
    author: text(row.author),
    subject: text(row.subject),
    durationMs: optionalInteger(row.duration_ms),
    details: row.details ? (JSON.parse(String(row.details)) as Record<string, unknown>) : undefined,
    relatedId: optionalInteger(row.related_id),
  };
  return withoutUndefined(entry) as unknown as HistoryEntry;
}

function toDeployment(row: SqlRow): Deployment {
  const deployment: Record<string, unknown> = {
    id: integer(row.id),
    application: String(row.application),
    environment: text(row.environment) || undefined,
    target: text(row.target),
    revision: String(row.revision),
    digest: String(row.digest),
    versions: JSON.parse(String(row.versions)) as string[],
    from: iso(row.started_at),
    to: row.ended_at === null || row.ended_at === undefined ? undefined : iso(row.ended_at),
    author: text(row.author),
    subject: text(row.subject),
    outcome: text(row.outcome),
    eventId: integer(row.event_id),
    rollbackId: optionalInteger(row.rollback_id),
    agent: String(row.agent),
  };
  return withoutUndefined(deployment) as unknown as Deployment;
}

function withoutUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));
}

function iso(ms: unknown): string {
  return new Date(integer(ms)).toISOString();
}

/**
 * The range of revisions that start with a prefix, as bounds an index can
 * use: revisions are lowercase hex, and "g" sorts after every hex digit.
 */
function prefixRange(prefix: string): [string, string] {
  const hex = prefix.toLowerCase().replace(/[^0-9a-f]/g, "");
  return [hex, `${hex}g`];
}
