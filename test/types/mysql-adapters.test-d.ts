import type { MySqlTransaction } from 'drizzle-orm/mysql-core';
import { drizzle } from 'drizzle-orm/mysql2';
import knexFactory, { type Knex } from 'knex';
import { Kysely, MysqlDialect, type Transaction } from 'kysely';
import { createPool } from 'mysql2';
import mysql from 'mysql2/promise';
import { describe, expectTypeOf, it } from 'vitest';
import { drizzleMysqlDriver } from '../../src/adapters/drizzle-mysql.js';
import { knexMysqlDriver } from '../../src/adapters/knex-mysql.js';
import { kyselyMysqlDriver } from '../../src/adapters/kysely-mysql.js';
import { createAsyncTask, type PerformContext, type Store } from '../../src/index.js';

interface DB {
  orders: { id: number; total: number };
}

function ordersTarget<Tx>() {
  return {
    Orders: {
      async fulfill(_args: { orderId: number }, _ctx: PerformContext<Tx>) {},
    },
  };
}

describe('MySQL adapters: the transaction type is the ORM’s own', () => {
  it('kysely (MySQL): Transaction<DB> for enqueue and ctx.tx', () => {
    const db = new Kysely<DB>({ dialect: new MysqlDialect({ pool: createPool({}) }) });
    const driver = kyselyMysqlDriver(db);
    expectTypeOf(driver).toEqualTypeOf<Store<Transaction<DB>>>();
    const asyncTask = createAsyncTask({ db: driver, targets: ordersTarget<Transaction<DB>>() });
    void db.transaction().execute(async (trx) => {
      expectTypeOf(asyncTask.enqueue).parameter(0).toEqualTypeOf<Transaction<DB>>();
      await asyncTask.enqueue(trx, 'Orders', 'fulfill', { orderId: 1 });
      // @ts-expect-error arguments of the wrong shape
      await asyncTask.enqueue(trx, 'Orders', 'fulfill', { orderId: '1' });
      // @ts-expect-error a mysql2 pool is not a Kysely transaction
      await asyncTask.enqueue(mysql.createPool({}), 'Orders', 'fulfill', { orderId: 1 });
    });
  });

  it('drizzle (mysql2): the MySqlTransaction of the database for enqueue and ctx.tx', () => {
    const db = drizzle({ client: mysql.createPool({}) });
    const driver = drizzleMysqlDriver(db);
    type Tx = Parameters<Parameters<typeof db.transaction>[0]>[0];
    expectTypeOf(driver).toEqualTypeOf<Store<Tx>>();
    expectTypeOf<Tx>().toExtend<MySqlTransaction<any, any, any, any>>();
    const asyncTask = createAsyncTask({ db: driver, targets: ordersTarget<Tx>() });
    void db.transaction(async (tx) => {
      await asyncTask.enqueue(tx, 'Orders', 'fulfill', { orderId: 1 });
      // @ts-expect-error an unknown method
      await asyncTask.enqueue(tx, 'Orders', 'refund', { orderId: 1 });
    });
    // A callback-API pool works too (Drizzle takes its promise() side).
    drizzleMysqlDriver(drizzle({ client: createPool({}) }));
  });

  it('knex (mysql2): Knex.Transaction for enqueue and ctx.tx', () => {
    const knex = knexFactory({ client: 'mysql2' });
    const driver = knexMysqlDriver(knex);
    expectTypeOf(driver).toEqualTypeOf<Store<Knex.Transaction>>();
    const asyncTask = createAsyncTask({ db: driver, targets: ordersTarget<Knex.Transaction>() });
    void knex.transaction(async (trx) => {
      await asyncTask.enqueue(trx, 'Orders', 'fulfill', { orderId: 1 });
      // @ts-expect-error an unknown target
      await asyncTask.enqueue(trx, 'Invoices', 'fulfill', { orderId: 1 });
    });
  });
});
