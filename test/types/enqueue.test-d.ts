import type Database from 'better-sqlite3';
import type pg from 'pg';
import { describe, expectTypeOf, it } from 'vitest';
import { postgres } from '../../src/drivers/postgres.js';
import { sqlite } from '../../src/drivers/sqlite.js';
import { type Attempt, createAsyncTask, type PerformContext } from '../../src/index.js';

const OrderClient = {
  async fulfill(_args: { orderId: number; note?: string }, _ctx: PerformContext<pg.PoolClient>) {},
  async cancel(_args: { orderId: number; reason: 'fraud' | 'customer' }) {},
  notAMethod: 42,
};
const Mailer = { async send(_args: { to: string }) {} };

declare const pool: pg.Pool;
declare const client: pg.PoolClient;
declare const database: Database.Database;

describe('enqueue is typed from the registry', () => {
  const asyncTask = createAsyncTask({ db: postgres(pool), targets: { OrderClient, Mailer } });

  it('accepts registered targets, methods and argument shapes, from any pg client', () => {
    expectTypeOf(postgres(pool).transaction).parameter(0).parameter(0).toEqualTypeOf<pg.PoolClient>();
    expectTypeOf(asyncTask.enqueue(client, 'OrderClient', 'fulfill', { orderId: 1 })).resolves.toEqualTypeOf<Attempt>();
    asyncTask.enqueue(client, 'OrderClient', 'cancel', { orderId: 1, reason: 'fraud' });
    asyncTask.enqueue(client, 'Mailer', 'send', { to: 'a@b.c' }, { idempotenceToken: 't', scheduledAt: new Date() });
  });

  it('rejects a wrong target, method or argument shape at compile time', () => {
    // @ts-expect-error unknown target
    asyncTask.enqueue(client, 'Nope', 'fulfill', { orderId: 1 });
    // @ts-expect-error unknown method
    asyncTask.enqueue(client, 'OrderClient', 'refund', { orderId: 1 });
    // @ts-expect-error not a method
    asyncTask.enqueue(client, 'OrderClient', 'notAMethod', {});
    // @ts-expect-error method of another target
    asyncTask.enqueue(client, 'Mailer', 'fulfill', { orderId: 1 });
    // @ts-expect-error wrong argument type
    asyncTask.enqueue(client, 'OrderClient', 'fulfill', { orderId: '1' });
    // @ts-expect-error missing required argument property
    asyncTask.enqueue(client, 'OrderClient', 'cancel', { orderId: 1 });
    // @ts-expect-error literal union violated
    asyncTask.enqueue(client, 'OrderClient', 'cancel', { orderId: 1, reason: 'bored' });
    // @ts-expect-error scheduledAt must be a Date
    asyncTask.enqueue(client, 'Mailer', 'send', { to: 'x' }, { scheduledAt: '2030-01-01' });
    // @ts-expect-error the tx must be a pg client, not a SQLite database
    asyncTask.enqueue(database, 'Mailer', 'send', { to: 'x' });
    // @ts-expect-error a pg.Pool autocommits on any connection: never the caller's transaction
    asyncTask.enqueue(pool, 'Mailer', 'send', { to: 'x' });
    // A plain pg.Client inside BEGIN … COMMIT is a transaction.
    asyncTask.enqueue({} as pg.Client, 'Mailer', 'send', { to: 'x' });
  });
});

describe('the SQLite driver types its tx as the better-sqlite3 database', () => {
  const asyncTask = createAsyncTask({ db: sqlite(database), targets: { Mailer } });
  it('enqueueSync returns the attempt', () => {
    expectTypeOf(asyncTask.enqueueSync(database, 'Mailer', 'send', { to: 'x' })).toEqualTypeOf<Attempt>();
    // @ts-expect-error wrong argument shape
    asyncTask.enqueueSync(database, 'Mailer', 'send', { to: 1 });
  });
});
