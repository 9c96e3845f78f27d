import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { eq, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { BaseSQLiteDatabase, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { drizzleSqliteDriver } from '../../src/adapters/drizzle-sqlite.js';
import { adapterSuite } from './support/adapter-suite.js';

const effects = sqliteTable('effects', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  key: text('key').notNull(),
});
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'async-task-drizzle-sqlite-'));

adapterSuite(
  'drizzle (better-sqlite3)',
  async () => {
    const client = new Database(path.join(dir, `${randomBytes(6).toString('hex')}.sqlite`));
    client.pragma('journal_mode = WAL');
    client.pragma('busy_timeout = 5000');
    client.exec('CREATE TABLE effects (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL)');
    const db = drizzle({ client, schema: { effects } });
    const count = (query: string, ...values: unknown[]) => (client.prepare(query).get(...values) as { n: number }).n;
    return {
      driver: () => drizzleSqliteDriver(db),
      // better-sqlite3 transactions are synchronous: the suite enqueues with enqueueSync.
      inTransaction: async (fn) => db.transaction((tx) => fn(tx)),
      writeEffect(tx, key) {
        tx.insert(effects).values({ key }).run();
      },
      isOrmHandle: (tx) => tx instanceof BaseSQLiteDatabase && tx !== db,
      countEffects: async (key) =>
        db.select({ n: sql<number>`count(*)` }).from(effects).where(eq(effects.key, key)).get()?.n ?? 0,
      countAttempts: async () => count('SELECT count(*) AS n FROM async_task_attempts'),
      close: async () => {
        client.close();
      },
    };
  },
  { sync: true },
  async () => fs.rmSync(dir, { recursive: true, force: true }),
);
