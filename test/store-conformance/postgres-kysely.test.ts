import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { kyselyDriver } from '../../src/adapters/kysely.js';
import { pgTestDatabase } from '../adapters/support/pg-database.js';
import { storeConformance } from './store-conformance.js';

const database = pgTestDatabase();

// The Kysely adapter: each process is one Kysely instance on its own pool; the application's
// transactions are Kysely `Transaction`s of it, and so is the store's `Tx`.
storeConformance(
  'postgres (kysely)',
  async () => {
    const schema = await database.schema();
    const instances: Kysely<any>[] = [];
    return {
      singleWriter: false,
      async process() {
        const pool = new pg.Pool({ connectionString: schema.url, max: 4 });
        pool.on('error', () => {});
        const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
        instances.push(db);
        return {
          store: kyselyDriver(db, { schema: schema.name }),
          inTransaction: (fn) => db.transaction().execute(fn),
        };
      },
      async close() {
        await Promise.all(instances.map((db) => db.destroy()));
      },
    };
  },
  {
    dispose: () => database.drop(),
  },
);
