import mysql from 'mysql2/promise';
import { describe, it } from 'vitest';
import { mysql as mysqlDriver } from '../../src/drivers/mysql.js';
import {
  mysqlSkipNote,
  mysqlTestDatabases,
  mysqlUnreachable,
  mysqlUrl,
  withMysqlTransaction,
} from '../support/mysql-database.js';
import { storeConformance } from './store-conformance.js';

const databases = mysqlTestDatabases();

// The mysql2 driver: each process is a pool for the application's transactions and a pool for the store. The
// application's pool reads dates in another time zone than UTC, and neither pool asks for big numbers as strings:
// the store's times and ids must not depend on either setting.
if (mysqlUnreachable) {
  describe.skip(mysqlSkipNote('store conformance: mysql (mysql2)'), () => {
    it('runs against a MySQL or MariaDB server', () => {});
  });
} else {
  storeConformance(
    'mysql (mysql2)',
    async () => {
      const database = await databases.create();
      const pools: mysql.Pool[] = [];
      const pool = (options: mysql.PoolOptions = {}) => {
        const made = mysql.createPool({ uri: mysqlUrl(database), connectionLimit: 4, ...options });
        pools.push(made);
        return made;
      };
      return {
        singleWriter: false,
        async process() {
          const app = pool({ timezone: '-05:00' });
          return {
            store: mysqlDriver(pool()),
            inTransaction: (fn) => withMysqlTransaction(app, fn),
          };
        },
        async close() {
          await Promise.all(pools.splice(0).map((made) => made.end()));
        },
      };
    },
    { dispose: () => databases.drop() },
  );
}
