import knexFactory, { type Knex } from 'knex';
import { describe, it } from 'vitest';
import { knexMysqlDriver } from '../../src/adapters/knex-mysql.js';
import { mysqlSkipNote, mysqlTestDatabases, mysqlUnreachable, mysqlUrl } from '../support/mysql-database.js';
import { storeConformance } from './store-conformance.js';

const databases = mysqlTestDatabases();

// The Knex adapter on MySQL (mysql2 client): each process is one Knex instance; the store's own transactions run on
// connections Knex lends.
if (mysqlUnreachable) {
  describe.skip(mysqlSkipNote('store conformance: mysql (knex)'), () => {
    it('runs against a MySQL or MariaDB server', () => {});
  });
} else {
  storeConformance(
    'mysql (knex)',
    async () => {
      const database = await databases.create();
      const instances: Knex[] = [];
      return {
        singleWriter: false,
        async process() {
          const knex = knexFactory({ client: 'mysql2', connection: mysqlUrl(database), pool: { min: 0, max: 4 } });
          instances.push(knex);
          return {
            store: knexMysqlDriver(knex),
            inTransaction: (fn) => knex.transaction(fn),
          };
        },
        async close() {
          await Promise.all(instances.splice(0).map((knex) => knex.destroy()));
        },
      };
    },
    { dispose: () => databases.drop() },
  );
}
