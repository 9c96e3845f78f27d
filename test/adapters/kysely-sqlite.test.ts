import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { CamelCasePlugin, type Generated, Kysely, SqliteDialect } from 'kysely';
import { kyselySqliteDriver } from '../../src/adapters/kysely-sqlite.js';
import { adapterSuite } from './support/adapter-suite.js';

interface DB {
  effects: { id: Generated<number>; key: string };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'async-task-kysely-sqlite-'));

adapterSuite(
  'kysely (SQLite, with CamelCasePlugin)',
  async () => {
    const database = new Database(path.join(dir, `${randomBytes(6).toString('hex')}.sqlite`));
    database.pragma('journal_mode = WAL');
    database.exec('CREATE TABLE effects (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL)');
    const db = new Kysely<DB>({ dialect: new SqliteDialect({ database }), plugins: [new CamelCasePlugin()] });
    const count = (query: string, ...values: unknown[]) => (database.prepare(query).get(...values) as { n: number }).n;
    return {
      driver: () => kyselySqliteDriver(db, database),
      inTransaction: (fn) => db.transaction().execute(async (trx) => fn(trx)),
      async writeEffect(tx, key) {
        await tx.insertInto('effects').values({ key }).execute();
      },
      isOrmHandle: (tx) => tx instanceof Kysely && tx !== db,
      countEffects: async (key) => count('SELECT count(*) AS n FROM effects WHERE key = ?', key),
      countAttempts: async () => count('SELECT count(*) AS n FROM async_task_attempts'),
      close: () => db.destroy(),
    };
  },
  {},
  async () => fs.rmSync(dir, { recursive: true, force: true }),
);
