import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { SqlDatabase, SqlExecutor, SqlRow, SqlValue } from "./sql-database.js";
import { Mutex } from "./sql-database.js";

/**
 * SQLite through better-sqlite3: one connection, WAL (readers never wait for
 * the writer), statements prepared once. Calls are synchronous underneath;
 * transactions are serialized by a mutex so two never interleave.
 */
export class SqliteDatabase implements SqlDatabase {
  readonly dialect = "sqlite" as const;
  readonly location: string;
  readonly #db: Database.Database;
  readonly #statements = new Map<string, Database.Statement>();
  readonly #mutex = new Mutex();
  #inTransaction = false;

  constructor(path: string) {
    this.location = path;
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.#db = new Database(path);
    this.#db.pragma("journal_mode = WAL");
    this.#db.pragma("synchronous = NORMAL");
    this.#db.pragma("busy_timeout = 5000");
  }

  /** Lets SQLite gather the statistics its planner needs (cheap when nothing changed much). */
  optimize(): void {
    this.#db.pragma("optimize");
  }

  async all(sql: string, params: readonly SqlValue[] = []): Promise<SqlRow[]> {
    return this.#statement(sql).all(...params) as SqlRow[];
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return this.#statement(sql).run(...params).changes;
  }

  async insert(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    const row = this.#statement(sql).get(...params) as { id: number | bigint } | undefined;
    if (!row) throw new Error(`insert returned no id: ${sql}`);
    return Number(row.id);
  }

  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.#mutex.run(async () => {
      if (this.#inTransaction) throw new Error("nested transaction");
      this.#db.exec("BEGIN IMMEDIATE");
      this.#inTransaction = true;
      try {
        const result = await work(this);
        this.#db.exec("COMMIT");
        return result;
      } catch (error) {
        if (this.#db.inTransaction) this.#db.exec("ROLLBACK");
        throw error;
      } finally {
        this.#inTransaction = false;
      }
    });
  }

  async close(): Promise<void> {
    await this.#mutex.run(async () => this.#db.close());
  }

  #statement(sql: string): Database.Statement {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }
}
