import { drizzle } from 'drizzle-orm/mysql2';
import mysql from 'mysql2/promise';
import { describe, it } from 'vitest';
import { drizzleMysqlDriver } from '../../src/adapters/drizzle-mysql.js';
import { mysqlSkipNote, mysqlTestDatabases, mysqlUnreachable, mysqlUrl } from '../support/mysql-database.js';
import { storeConformance } from './store-conformance.js';

const databases = mysqlTestDatabases();

// The Drizzle adapter on MySQL: each process is one Drizzle database on its own mysql2 pool; the store's own
// transactions run on that pool, the application's are Drizzle transactions.
if (mysqlUnreachable) {
  describe.skip(mysqlSkipNote('store conformance: mysql (drizzle)'), () => {
    it('runs against a MySQL or MariaDB server', () => {});
  });
} else {
  storeConformance(
    'mysql (drizzle)',
    async () => {
      const database = await databases.create();
      const pools: mysql.Pool[] = [];
      return {
        singleWriter: false,
        async process() {
          const pool = mysql.createPool({ uri: mysqlUrl(database), connectionLimit: 4 });
          pools.push(pool);
          const db = drizzle({ client: pool });
          return {
            store: drizzleMysqlDriver(db),
            inTransaction: (fn) => db.transaction(fn),
          };
        },
        async close() {
          await Promise.all(pools.splice(0).map((pool) => pool.end()));
        },
      };
    },
    { dispose: () => databases.drop() },
  );
}
