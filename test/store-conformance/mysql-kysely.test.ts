import { Kysely, MysqlDialect } from 'kysely';
import { createPool, type Pool } from 'mysql2';
import { describe, it } from 'vitest';
import { kyselyMysqlDriver } from '../../src/adapters/kysely-mysql.js';
import { mysqlSkipNote, mysqlTestDatabases, mysqlUnreachable, mysqlUrl } from '../support/mysql-database.js';
import { storeConformance } from './store-conformance.js';

const databases = mysqlTestDatabases();

// The Kysely adapter on MySQL: each process is one Kysely instance on its own mysql2 pool; the application's
// transactions are Kysely `Transaction`s of it, and so is the store's `Tx`.
if (mysqlUnreachable) {
  describe.skip(mysqlSkipNote('store conformance: mysql (kysely)'), () => {
    it('runs against a MySQL or MariaDB server', () => {});
  });
} else {
  storeConformance(
    'mysql (kysely)',
    async () => {
      const database = await databases.create();
      const instances: Kysely<any>[] = [];
      return {
        singleWriter: false,
        async process() {
          const pool: Pool = createPool({ uri: mysqlUrl(database), connectionLimit: 4 });
          const db = new Kysely<any>({ dialect: new MysqlDialect({ pool }) });
          instances.push(db);
          return {
            store: kyselyMysqlDriver(db),
            inTransaction: (fn) => db.transaction().execute(fn),
          };
        },
        async close() {
          await Promise.all(instances.splice(0).map((db) => db.destroy()));
        },
      };
    },
    { dispose: () => databases.drop() },
  );
}
