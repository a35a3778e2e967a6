/**
 * The little SQL the history store needs, over SQLite and PostgreSQL alike.
 * Statements use `?` placeholders; the PostgreSQL adapter numbers them.
 */

/** A value bound to a placeholder. */
export type SqlValue = string | number | null;

/** A row as drivers return it (PostgreSQL BIGINT columns arrive as strings). */
export type SqlRow = Readonly<Record<string, unknown>>;

/** Runs statements, in or out of a transaction. */
export interface SqlExecutor {
  /** Rows of a query. */
  all(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]>;
  /** Runs a statement; returns how many rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /** Runs an INSERT ... RETURNING id; returns the id. */
  insert(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

/** One database connection (or pool). */
export interface SqlDatabase extends SqlExecutor {
  readonly dialect: "sqlite" | "postgres";
  /** Where it is, credentials masked. */
  readonly location: string;
  /** Runs statements in one transaction; rolls back when `work` throws. Transactions never interleave. */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Refreshes the planner's statistics where the database does not do it by itself. */
  optimize?(): void;
  close(): Promise<void>;
}

/** Serializes async work: each call runs after the previous one settled. */
export class Mutex {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(work, work);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

/** Reads an integer column (PostgreSQL returns BIGINT as a string). */
export function integer(value: unknown): number {
  return typeof value === "number" ? value : Number(value);
}

/** Reads a nullable text column. */
export function text(value: unknown): string | undefined {
  return value === null || value === undefined ? undefined : String(value);
}

/** Reads a nullable integer column. */
export function optionalInteger(value: unknown): number | undefined {
  return value === null || value === undefined ? undefined : integer(value);
}
