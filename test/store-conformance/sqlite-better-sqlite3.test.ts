import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { sqlite } from '../../src/drivers/sqlite.js';
import type { Store } from '../../src/store/store.js';
import { storeConformance } from './store-conformance.js';
import { TurnTaking } from './support/target.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'async-task-store-conformance-'));

// The better-sqlite3 driver: each process is an application connection to the test's file, and a store over it
// (which opens its own writer and reader).
storeConformance(
  'sqlite (better-sqlite3)',
  async () => {
    const file = path.join(dir, `${randomBytes(6).toString('hex')}.sqlite`);
    const connections: Database.Database[] = [];
    const stores: Store<any, any>[] = [];
    // One writer per file: the test's application transactions take turns rather than wait synchronously.
    const turns = new TurnTaking();
    return {
      singleWriter: true,
      async process() {
        const app = new Database(file);
        app.pragma('journal_mode = WAL');
        connections.push(app);
        const store = sqlite(app);
        stores.push(store);
        return {
          store,
          inTransaction: (fn) =>
            turns.run(async () => {
              app.exec('BEGIN IMMEDIATE');
              try {
                const result = await fn(app);
                app.exec('COMMIT');
                return result;
              } catch (error) {
                if (app.inTransaction) app.exec('ROLLBACK');
                throw error;
              }
            }),
        };
      },
      async close() {
        for (const store of stores) await store.close();
        for (const connection of connections) connection.close();
      },
    };
  },
  { dispose: async () => fs.rmSync(dir, { recursive: true, force: true }) },
);
