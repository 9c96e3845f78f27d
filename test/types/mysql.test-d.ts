import mysql from 'mysql2/promise';
import { describe, expectTypeOf, it } from 'vitest';
import { internalsOf } from '../../src/async-task/internals.js';
import { mysql as mysqlDriver } from '../../src/drivers/mysql.js';
import { type Attempt, createAsyncTask, type PerformContext } from '../../src/index.js';

const Mailer = {
  async send(_args: { to: string }, _ctx: PerformContext<mysql.PoolConnection>) {},
};

declare const pool: mysql.Pool;
declare const pooled: mysql.PoolConnection;
declare const connection: mysql.Connection;

describe('the MySQL driver types its handles as mysql2/promise ones', () => {
  const asyncTask = createAsyncTask({ db: mysqlDriver(pool), targets: { Mailer } });

  it('ctx.tx is a pooled connection; enqueue takes any connection inside a transaction', () => {
    expectTypeOf(internalsOf(asyncTask).store.transaction)
      .parameter(0)
      .parameter(0)
      .toEqualTypeOf<mysql.PoolConnection>();
    expectTypeOf(asyncTask.enqueue(pooled, 'Mailer', 'send', { to: 'a@b.c' })).resolves.toEqualTypeOf<Attempt>();
    asyncTask.enqueue(connection, 'Mailer', 'send', { to: 'a@b.c' });
  });

  it('refuses a pool (it autocommits on any connection) and wrong arguments', () => {
    // @ts-expect-error a pool is never the caller's transaction
    asyncTask.enqueue(pool, 'Mailer', 'send', { to: 'x' });
    // @ts-expect-error wrong argument shape
    asyncTask.enqueue(pooled, 'Mailer', 'send', { to: 1 });
  });
});

describe('the example of docs/mysql.md compiles', () => {
  it('enqueues on a connection of the pool inside its transaction', async () => {
    const OrderClient = {
      async fulfill(_args: { orderId: number }, ctx: PerformContext<mysql.PoolConnection>) {
        await ctx.tx.query('UPDATE orders SET shipped_at = UTC_TIMESTAMP() WHERE id = ?', [1]);
      },
    };
    const id = 1;
    const pool = mysql.createPool({ uri: process.env.DATABASE_URL });
    const asyncTask = createAsyncTask({ db: mysqlDriver(pool), targets: { OrderClient } });
    await asyncTask.migrate();
    const connection = await pool.getConnection();
    try {
      await connection.beginTransaction();
      await connection.query('INSERT INTO orders (id) VALUES (?)', [id]);
      await asyncTask.enqueue(connection, 'OrderClient', 'fulfill', { orderId: id });
      await connection.commit();
    } finally {
      connection.release();
    }
  });
});
