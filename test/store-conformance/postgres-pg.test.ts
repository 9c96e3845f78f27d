import pg from 'pg';
import { postgres } from '../../src/drivers/postgres.js';
import { pgTestDatabase } from '../adapters/support/pg-database.js';
import { withPgTransaction } from '../support/pg-transaction.js';
import { storeConformance } from './store-conformance.js';

const database = pgTestDatabase();

// The pg driver: each process is a pool for the application's transactions and a pool for the store.
storeConformance(
  'postgres (pg)',
  async () => {
    const schema = await database.schema();
    const pools: pg.Pool[] = [];
    const pool = () => {
      const made = new pg.Pool({ connectionString: schema.url, max: 4 });
      // Connections cut when the per-file database is dropped report 57P01: expected.
      made.on('error', () => {});
      pools.push(made);
      return made;
    };
    return {
      singleWriter: false,
      async process() {
        const app = pool();
        return {
          store: postgres(pool(), { schema: schema.name }),
          inTransaction: (fn) => withPgTransaction(app, fn),
        };
      },
      async close() {
        await Promise.all(pools.map((made) => made.end()));
      },
    };
  },
  {
    dispose: () => database.drop(),
  },
);
