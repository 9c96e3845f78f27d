import type Database from 'better-sqlite3';
import type pg from 'pg';
import { describe, expectTypeOf, it } from 'vitest';
import { postgres } from '../../src/drivers/postgres.js';
import { sqlite } from '../../src/drivers/sqlite.js';
import { type AsyncTask, createAsyncTask, type Store } from '../../src/index.js';

declare const pool: pg.Pool;
declare const database: Database.Database;
const targets = { Mailer: { async send(_args: { to: string }) {} } };

describe('the public AsyncTask type', () => {
  it('has no internals: the dashboard and the CLI reach the store through typed capabilities instead', () => {
    const asyncTask = createAsyncTask({ db: postgres(pool), targets });
    expectTypeOf(asyncTask).not.toHaveProperty('internals');
    // @ts-expect-error internals are not part of the public type
    void asyncTask.internals;
    expectTypeOf<keyof AsyncTask<typeof targets, pg.PoolClient>>().toEqualTypeOf<
      | 'migrate'
      | 'checkReady'
      | 'enqueue'
      | 'enqueueMany'
      | 'enqueueSync'
      | 'perform'
      | 'expire'
      | 'fail'
      | 'retry'
      | 'find'
      | 'list'
      | 'decodeArgs'
      | 'drain'
      | 'worker'
      | 'relay'
      | 'close'
      | 'recurring'
    >();
  });

  it('a driver is a Store with typed worker, relay and dashboard capabilities over its own handle', () => {
    const pgDriver = postgres(pool);
    expectTypeOf(pgDriver.workerStore().attemptLockClaims).parameter(0).toEqualTypeOf<pg.PoolClient>();
    expectTypeOf(pgDriver.workerStore().attemptScope).returns.toHaveProperty('tx').toEqualTypeOf<pg.PoolClient>();
    expectTypeOf(pgDriver.relayStore()).toHaveProperty('attemptClaimForHandoff');
    expectTypeOf(pgDriver.dashboardQueries()).toHaveProperty('dashboardAttemptSearch');
    const sqliteDriver: Store<Database.Database> = sqlite(database);
    expectTypeOf(sqliteDriver.workerStore().attemptLockClaims).parameter(0).toEqualTypeOf<Database.Database>();
  });
});
