import pg from "pg";
import { redactSecrets } from "../source/repository-url.js";
import type { SqlDatabase, SqlExecutor, SqlRow, SqlValue } from "./sql-database.js";
import { Mutex } from "./sql-database.js";

/** `?` placeholders numbered for PostgreSQL: `a = ? and b = ?` -> `a = $1 and b = $2`. */
export function numberPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/**
 * PostgreSQL through a small pool. A lost server surfaces as errors of the
 * calls (the history buffers and retries), never as a crash of the process.
 */
export class PostgresDatabase implements SqlDatabase {
  readonly dialect = "postgres" as const;
  readonly location: string;
  readonly #pool: pg.Pool;
  readonly #sql = new Map<string, string>();
  readonly #mutex = new Mutex();

  constructor(url: string) {
    this.location = redactSecrets(url);
    this.#pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30_000 });
    // An idle client whose server went away emits here; the next query reports it.
    this.#pool.on("error", () => undefined);
  }

  all(sql: string, params: readonly SqlValue[] = []): Promise<SqlRow[]> {
    return query(this.#pool, this.#numbered(sql), params);
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    const result = await this.#pool.query(this.#numbered(sql), [...params]);
    return result.rowCount ?? 0;
  }

  async insert(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    const [row] = await this.all(sql, params);
    if (!row) throw new Error(`insert returned no id: ${sql}`);
    return Number(row.id);
  }

  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.#mutex.run(async () => {
      const client = await this.#pool.connect();
      const tx: SqlExecutor = {
        all: (sql, params = []) => query(client, this.#numbered(sql), params),
        run: async (sql, params = []) => (await client.query(this.#numbered(sql), [...params])).rowCount ?? 0,
        insert: async (sql, params = []) => {
          const [row] = await query(client, this.#numbered(sql), params);
          if (!row) throw new Error(`insert returned no id: ${sql}`);
          return Number(row.id);
        },
      };
      let broken = false;
      try {
        await client.query("BEGIN");
        const result = await work(tx);
        await client.query("COMMIT");
        return result;
      } catch (error) {
        try {
          await client.query("ROLLBACK");
        } catch {
          broken = true;
        }
        throw error;
      } finally {
        client.release(broken);
      }
    });
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }

  #numbered(sql: string): string {
    let numbered = this.#sql.get(sql);
    if (numbered === undefined) {
      numbered = numberPlaceholders(sql);
      this.#sql.set(sql, numbered);
    }
    return numbered;
  }
}

async function query(client: pg.Pool | pg.PoolClient, sql: string, params: readonly SqlValue[]): Promise<SqlRow[]> {
  const result = await client.query(sql, [...params]);
  return result.rows as SqlRow[];
}
