import { eq, sql } from 'drizzle-orm';
import { bigint, MySqlTransaction, mysqlTable, varchar } from 'drizzle-orm/mysql-core';
import { drizzle } from 'drizzle-orm/mysql2';
import mysql from 'mysql2/promise';
import { drizzleMysqlDriver } from '../../src/adapters/drizzle-mysql.js';
import { mysqlAdapterSuite } from './support/mysql-adapter.js';

const effects = mysqlTable('effects', {
  id: bigint('id', { mode: 'number' }).autoincrement().primaryKey(),
  key: varchar('key', { length: 255 }).notNull(),
});

const open = (url: string) => {
  const pool = mysql.createPool({ uri: url, connectionLimit: 5 });
  return { pool, db: drizzle({ client: pool, schema: { effects }, mode: 'default' }) };
};
type Tx = Parameters<Parameters<ReturnType<typeof open>['db']['transaction']>[0]>[0];

mysqlAdapterSuite<Tx>('drizzle (mysql2)', async (url) => {
  const { pool, db } = open(url);
  return {
    driver: () => drizzleMysqlDriver(db),
    inTransaction: (fn) => db.transaction(async (tx) => fn(tx)),
    async writeEffect(tx, key) {
      await tx.insert(effects).values({ key });
    },
    isOrmHandle: (tx) => tx instanceof MySqlTransaction,
    countEffects: async (key) =>
      Number((await db.select({ n: sql<number>`count(*)` }).from(effects).where(eq(effects.key, key)))[0]?.n ?? 0),
    close: () => pool.end(),
  };
});
