// The throwaway PostgreSQL server: databases on it are separate and usable,
// dropped when asked, and stop() leaves nothing listening.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Client } from "pg";
import { createTestDatabase, startTestPostgres } from "./postgres.js";

async function withClient<T>(url: string, use: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  client.on("error", () => {});
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

async function databaseExists(serverUrl: string, dbUrl: string): Promise<boolean> {
  const name = new URL(dbUrl).pathname.slice(1);
  const result = await withClient(serverUrl, (c) => c.query("select 1 from pg_database where datname = $1", [name]));
  return result.rowCount === 1;
}

describe("test PostgreSQL server", () => {
  test("two fresh databases each take queries and writes of their own, and are dropped", async (t) => {
    const server = await startTestPostgres();
    if ("skip" in server) {
      t.skip(server.skip);
      return;
    }
    const created: { drop(): Promise<void> }[] = [];
    // node:test runs after hooks in the order they were added: drop first, then stop.
    t.after(async () => {
      for (const db of created) await db.drop();
      await server.stop();
    });
    const first = await createTestDatabase(server);
    created.push(first);
    const second = await createTestDatabase(server);
    created.push(second);
    assert.notEqual(first.url, second.url);

    for (const [db, word] of [[first, "one"], [second, "two"]] as const) {
      await withClient(db.url, async (c) => {
        assert.deepEqual((await c.query("select 1 as one")).rows, [{ one: 1 }]);
        const tables = await c.query("select table_name from information_schema.tables where table_schema = 'public'");
        assert.deepEqual(tables.rows, [], `a fresh database is empty: ${db.url}`);
        // The same table name in both: it only works if the databases are separate.
        await c.query("create table notes (id serial primary key, body text not null)");
        await c.query("insert into notes (body) values ($1)", [word]);
        assert.deepEqual((await c.query("select body from notes")).rows, [{ body: word }]);
      });
    }

    for (const db of [first, second]) {
      assert.equal(await databaseExists(server.url, db.url), true);
      await db.drop();
      assert.equal(await databaseExists(server.url, db.url), false, `dropped: ${db.url}`);
    }
  });

  test("one server is shared by callers, and stops when the last one stops it", async (t) => {
    const server = await startTestPostgres();
    if ("skip" in server) {
      t.skip(server.skip);
      return;
    }
    if (process.env.FERRY_TEST_POSTGRES_URL) {
      await server.stop();
      t.skip("FERRY_TEST_POSTGRES_URL names an outside server, which stop() leaves running");
      return;
    }
    const again = await startTestPostgres();
    assert.ok(!("skip" in again));
    assert.equal(again.url, server.url, "a second caller shares the running server");

    await again.stop();
    await withClient(server.url, (c) => c.query("select 1"));

    await server.stop();
    await assert.rejects(withClient(server.url, (c) => c.query("select 1")), (error: NodeJS.ErrnoException) => {
      assert.equal(error.code, "ECONNREFUSED", String(error));
      return true;
    });
  });
});
