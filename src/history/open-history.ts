import { join, resolve } from "node:path";
import { redactSecrets } from "../source/repository-url.js";
import { PostgresDatabase } from "./postgres-database.js";
import { SqlHistoryStore } from "./sql-history-store.js";
import { SqliteDatabase } from "./sqlite-database.js";
import type { HistoryStore } from "./types.js";

/** The embedded default: a SQLite file in the agent's state directory. */
export function defaultHistoryUrl(stateDir: string): string {
  return `sqlite:${join(stateDir, "history.db")}`;
}

/**
 * Opens the history a URL names: `sqlite:<path>` (embedded) or
 * `postgres://user:password@host:port/database` (shared by several agents).
 */
export async function openHistory(url: string): Promise<HistoryStore> {
  if (url.startsWith("sqlite:")) {
    const path = url.slice("sqlite:".length);
    if (path === "") throw new Error("the history URL sqlite: names no file: use sqlite:<path>");
    return SqlHistoryStore.open(new SqliteDatabase(path === ":memory:" ? path : resolve(path)));
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const db = new PostgresDatabase(url);
    try {
      return await SqlHistoryStore.open(db);
    } catch (error) {
      throw new Error(`cannot open the history at ${db.location}: ${(error as Error).message}`, { cause: error });
    }
  }
  throw new Error(`unsupported history URL ${JSON.stringify(redactSecrets(url))}: use sqlite:<path> or postgres://user@host:port/database`);
}
