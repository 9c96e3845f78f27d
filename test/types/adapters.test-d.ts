import Database from 'better-sqlite3';
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import type { PgTransaction } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePostgresJs } from 'drizzle-orm/postgres-js';
import knexFactory, { type Knex } from 'knex';
import { Kysely, PostgresDialect, SqliteDialect, type Transaction } from 'kysely';
import pg from 'pg';
import postgres, { type TransactionSql } from 'postgres';
import { describe, expectTypeOf, it } from 'vitest';
import { drizzleDriver } from '../../src/adapters/drizzle.js';
import { drizzleSqliteDriver } from '../../src/adapters/drizzle-sqlite.js';
import { knexDriver } from '../../src/adapters/knex.js';
import { kyselyDriver } from '../../src/adapters/kysely.js';
import { kyselySqliteDriver } from '../../src/adapters/kysely-sqlite.js';
import { postgresJsDriver } from '../../src/adapters/postgres-js.js';
import { prismaDriver } from '../../src/adapters/prisma.js';
import { createAsyncTask, type PerformContext, type Store } from '../../src/index.js';
import { PrismaClient } from '../adapters/prisma/generated/client.js';

interface DB {
  orders: { id: number; total: number };
}

/** A registry whose methods are typed with the driver's transaction, as an application writes them. */
function ordersTarget<Tx>() {
  return {
    Orders: {
      async fulfill(_args: { orderId: number; note?: string }, _ctx: PerformContext<Tx>) {},
      async cancel(_args: { orderId: number; reason: 'fraud' | 'customer' }, _ctx: PerformContext<Tx>) {},
    },
  };
}

describe('adapters: the transaction type is the ORM’s own', () => {
  it('kysely: Transaction<DB> for enqueue and ctx.tx', () => {
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: new pg.Pool() }) });
    const driver = kyselyDriver(db);
    expectTypeOf(driver).toEqualTypeOf<Store<Transaction<DB>>>();
    const asyncTask = createAsyncTask({ db: driver, targets: ordersTarget<Transaction<DB>>() });
    void db.transaction().execute(async (trx) => {
      expectTypeOf(asyncTask.enqueue).parameter(0).toEqualTypeOf<Transaction<DB>>();
      await asyncTask.enqueue(trx, 'Orders', 'fulfill', { orderId: 1 });
      await asyncTask.enqueue(trx, 'Orders', 'cancel', { orderId: 1, reason: 'fraud' });
      // @ts-expect-error an unknown method
      await asyncTask.enqueue(trx, 'Orders', 'refund', { orderId: 1 });
      // @ts-expect-error an unknown target
      await asyncTask.enqueue(trx, 'Invoices', 'fulfill', { orderId: 1 });
      // @ts-expect-error arguments of the wrong shape
      await asyncTask.enqueue(trx, 'Orders', 'cancel', { orderId: 1, reason: 'bored' });
      // @ts-expect-error a pg client is not a Kysely transaction
      await asyncTask.enqueue(new pg.Client(), 'Orders', 'fulfill', { orderId: 1 });
    });
  });

  it('kysely (SQLite): any Kysely<DB> of the database, a Transaction<DB> included', () => {
    const database = new Database(':memory:');
    const db = new Kysely<DB>({ dialect: new SqliteDialect({ database }) });
    const driver = kyselySqliteDriver(db, database);
    expectTypeOf(driver).toEqualTypeOf<Store<Kysely<DB>>>();
    const asyncTask = createAsyncTask({ db: driver, targets: ordersTarget<Kysely<DB>>() });
    void db.transaction().execute(async (trx) => {
      await asyncTask.enqueue(trx, 'Orders', 'fulfill', { orderId: 1 });
      // @ts-expect-error arguments of the wrong shape
      await asyncTask.enqueue(trx, 'Orders', 'fulfill', { order: 1 });
    });
  });

  it('knex: Knex.Transaction', () => {
    const knex = knexFactory({ client: 'pg' });
    const driver = knexDriver(knex);
    expectTypeOf(driver).toEqualTypeOf<Store<Knex.Transaction>>();
    const asyncTask = createAsyncTask({ db: driver, targets: ordersTarget<Knex.Transaction>() });
    void knex.transaction(async (trx) => {
      await asyncTask.enqueue(trx, 'Orders', 'fulfill', { orderId: 1 });
      // @ts-expect-error arguments of the wrong shape
      await asyncTask.enqueue(trx, 'Orders', 'fulfill', { orderId: '1' });
    });
  });

  it('postgres.js: the TransactionSql of sql.begin', () => {
    const sql = postgres();
    const driver = postgresJsDriver(sql);
    // biome-ignore lint/complexity/noBannedTypes: postgres() without custom types is TransactionSql<{}>.
    type Tx = TransactionSql<{}>;
    expectTypeOf(driver).toEqualTypeOf<Store<Tx>>();
    const asyncTask = createAsyncTask({ db: driver, targets: ordersTarget<Tx>() });
    void sql.begin(async (tx) => {
      await asyncTask.enqueue(tx, 'Orders', 'fulfill', { orderId: 1, note: 'gift' });
      // @ts-expect-error a missing argument
      await asyncTask.enqueue(tx, 'Orders', 'fulfill', {});
    });
  });

  it('drizzle (node-postgres and postgres.js): the PgTransaction of db.transaction', () => {
    const nodePg = drizzleNodePg({ client: new pg.Pool() });
    const nodePgDriver = drizzleDriver(nodePg);
    type NodePgTx = Parameters<Parameters<typeof nodePg.transaction>[0]>[0];
    expectTypeOf(nodePgDriver).toEqualTypeOf<Store<NodePgTx>>();
    expectTypeOf<NodePgTx>().toExtend<PgTransaction<any, any, any>>();
    const asyncTask = createAsyncTask({ db: nodePgDriver, targets: ordersTarget<NodePgTx>() });
    void nodePg.transaction(async (tx) => {
      await asyncTask.enqueue(tx, 'Orders', 'fulfill', { orderId: 1 });
      // @ts-expect-error the database itself is not a transaction
      await asyncTask.enqueue(drizzleNodePg({ client: new pg.Pool() }), 'Orders', 'fulfill', { orderId: 1 });
    });

    const postgresJs = drizzlePostgresJs({ client: postgres() });
    type PostgresJsTx = Parameters<Parameters<typeof postgresJs.transaction>[0]>[0];
    expectTypeOf(drizzleDriver(postgresJs)).toEqualTypeOf<Store<PostgresJsTx>>();
  });

  it('drizzle (better-sqlite3): a Drizzle SQLite database of the same schema, with enqueueSync', () => {
    const db = drizzleSqlite({ client: new Database(':memory:') });
    const driver = drizzleSqliteDriver(db);
    type Tx = Parameters<typeof driver.attemptInsert>[0];
    // Both what enqueueSync is given (db.transaction's tx) and what targets get (a Drizzle database) fit it.
    expectTypeOf<Parameters<Parameters<typeof db.transaction>[0]>[0]>().toExtend<Tx>();
    expectTypeOf<typeof db>().toExtend<Tx>();
    expectTypeOf<Tx>().toHaveProperty('insert');
    const asyncTask = createAsyncTask({ db: driver, targets: ordersTarget<Tx>() });
    db.transaction((tx) => {
      asyncTask.enqueueSync(tx, 'Orders', 'fulfill', { orderId: 1 });
      // @ts-expect-error arguments of the wrong shape
      asyncTask.enqueueSync(tx, 'Orders', 'cancel', { orderId: 1 });
    });
  });

  it('prisma: the interactive transaction client', () => {
    const prisma = new PrismaClient({ adapter: undefined as never });
    const driver = prismaDriver(prisma);
    type Tx = Parameters<typeof driver.attemptInsert>[0];
    // Prisma's interactive transaction client: the models and raw queries, without $connect.
    expectTypeOf<'$connect' extends keyof Tx ? true : false>().toEqualTypeOf<false>();
    expectTypeOf<Tx>().toHaveProperty('effect');
    expectTypeOf<Tx>().toHaveProperty('$queryRawUnsafe');
    const asyncTask = createAsyncTask({ db: driver, targets: ordersTarget<Tx>() });
    void prisma.$transaction(async (tx) => {
      expectTypeOf(tx.effect.create).toBeFunction();
      await asyncTask.enqueue(tx, 'Orders', 'fulfill', { orderId: 1 });
      // @ts-expect-error an unknown method
      await asyncTask.enqueue(tx, 'Orders', 'ship', { orderId: 1 });
    });
  });
});
