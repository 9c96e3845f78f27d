import mysql from 'mysql2/promise';
import { describe, it } from 'vitest';
import type { Store } from '../../../src/store/store.js';
import { mysqlSkipNote, mysqlTestDatabases, mysqlUnreachable, mysqlUrl } from '../../support/mysql-database.js';
import { type AdapterHarness, adapterSuite } from './adapter-suite.js';

/** What a MySQL ORM test gives: the ORM over `url` (a fresh database with an `effects` table). */
export type MysqlOrmHarness<Tx> = Omit<AdapterHarness<Tx>, 'countAttempts' | 'driver'> & {
  /** A new async-task driver over the ORM instance under test (`Tx` is inferred from it). */
  driver(): Store<Tx>;
};

/**
 * The shared adapter suite for one ORM on MySQL/MariaDB, each test on a fresh database; skipped, with how to run
 * it, when no server answers.
 */
export function mysqlAdapterSuite<Tx>(title: string, open: (url: string) => Promise<MysqlOrmHarness<Tx>>): void {
  if (mysqlUnreachable) {
    describe.skip(mysqlSkipNote(`adapter: ${title}`), () => {
      it('runs against a MySQL or MariaDB server', () => {});
    });
    return;
  }
  const databases = mysqlTestDatabases();
  adapterSuite(
    title,
    async () => {
      const url = mysqlUrl(await databases.create());
      const harness = await open(url);
      return {
        ...harness,
        async countAttempts() {
          const connection = await mysql.createConnection({ uri: url });
          try {
            const [rows] = await connection.query('SELECT count(*) AS n FROM async_task_attempts');
            return Number((rows as { n: number }[])[0]?.n);
          } finally {
            await connection.end();
          }
        },
      };
    },
    {},
    () => databases.drop(),
  );
}
