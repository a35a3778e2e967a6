import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import Database from "better-sqlite3";
import { createTestDatabase, startTestPostgres } from "../../test/support/postgres.js";
import { describeHistoryStore } from "../../test/support/history-store.conformance.js";
import { openHistory } from "./open-history.js";
import { numberPlaceholders } from "./postgres-database.js";

describeHistoryStore("sqlite", {
  async open() {
    const dir = await mkdtemp(join(tmpdir(), "ferry-history-"));
    const url = `sqlite:${join(dir, "history.db")}`;
    return { store: await openHistory(url), reopen: () => openHistory(url), cleanup: () => rm(dir, { recursive: true, force: true }) };
  },
});

const postgres = await startTestPostgres();
if ("skip" in postgres) console.log(`# PostgreSQL history tests skipped: ${postgres.skip}`);
else after(() => postgres.stop());
describeHistoryStore(
  "postgres",
  "skip" in postgres
    ? postgres
    : {
        async open() {
          const db = await createTestDatabase(postgres);
          return { store: await openHistory(db.url), reopen: () => openHistory(db.url), cleanup: () => db.drop() };
        },
      },
);

test("refuses a history whose schema is newer than this build", async () => {
  const dir = await mkdtemp(join(tmpdir(), "ferry-history-"));
  try {
    const path = join(dir, "history.db");
    await (await openHistory(`sqlite:${path}`)).close();
    const db = new Database(path);
    db.prepare("INSERT INTO ferry_schema (version, description, applied_at) VALUES (99, 'future', 0)").run();
    db.close();
    await assert.rejects(openHistory(`sqlite:${path}`), /schema version 99, newer than this ferry knows/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("names what is wrong with a history URL", async () => {
  await assert.rejects(openHistory("mysql://root:hunter2@db/ferry"), (error: Error) => {
    assert.match(error.message, /unsupported history URL/);
    assert.doesNotMatch(error.message, /hunter2/);
    return true;
  });
  await assert.rejects(openHistory("sqlite:"), /names no file/);
});

test("numbers placeholders for PostgreSQL", () => {
  assert.equal(numberPlaceholders("a = ? AND b IN (?, ?)"), "a = $1 AND b IN ($2, $3)");
});
