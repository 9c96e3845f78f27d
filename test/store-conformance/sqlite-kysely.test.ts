import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { kyselySqliteDriver } from '../../src/adapters/kysely-sqlite.js';
import type { Store } from '../../src/store/store.js';
import { storeConformance } from './store-conformance.js';
import { TurnTaking } from './support/target.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'async-task-store-conformance-kysely-'));

// The Kysely SQLite adapter: each process is a Kysely instance over its own better-sqlite3 connection to the
// test's file; the application's transactions are Kysely `Transaction`s of it.
storeConformance(
  'sqlite (kysely-sqlite)',
  async () => {
    const file = path.join(dir, `${randomBytes(6).toString('hex')}.sqlite`);
    const instances: Kysely<any>[] = [];
    const stores: Store<any, any>[] = [];
    // One writer per file: the test's application transactions take turns rather than wait synchronously.
    const turns = new TurnTaking();
    return {
      singleWriter: true,
      async process() {
        const database = new Database(file);
        database.pragma('journal_mode = WAL');
        const db = new Kysely<any>({ dialect: new SqliteDialect({ database }) });
        instances.push(db);
        const store = kyselySqliteDriver(db, database);
        stores.push(store);
        return {
          store,
          inTransaction: (fn) => turns.run(() => db.transaction().execute(fn)),
        };
      },
      async close() {
        for (const store of stores) await store.close();
        // Closes each application connection.
        for (const db of instances) await db.destroy();
      },
    };
  },
  { dispose: async () => fs.rmSync(dir, { recursive: true, force: true }) },
);
