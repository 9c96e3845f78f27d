// Fail fast through the API: an unmigrated database or an unreachable one is a typed error that says what
// to do, from the first call (never a raw 42P01 / "no such table").
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, inject, test } from 'vitest';
import { postgres } from '../../src/drivers/postgres.js';
import { sqlite } from '../../src/drivers/sqlite.js';
import { createAsyncTask, DatabaseUnreachableError, SchemaNotMigratedError } from '../../src/index.js';
import { createDatabase } from '../cli/support/project.js';

const targets = { Mailer: { async send(_args: { to: string }) {} } };
const dialects = (process.env.ASYNC_TASK_DIALECTS ?? 'postgres,sqlite').split(',');

describe('an unmigrated or unreachable database', () => {
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  test.skipIf(!dialects.includes('sqlite'))('sqlite: enqueueSync, find and checkReady say to migrate', async () => {
    const database = new Database(':memory:');
    const asyncTask = createAsyncTask({ db: sqlite(database), targets });
    cleanups.push(() => database.close());
    expect(() => database.transaction(() => asyncTask.enqueueSync(database, 'Mailer', 'send', { to: 'a' }))()).toThrow(
      SchemaNotMigratedError,
    );
    await expect(asyncTask.find(1)).rejects.toMatchObject({
      code: 'NOT_MIGRATED',
      message:
        'The attempts table async_task_attempts does not exist yet: run `async-task migrate` (or asyncTask.migrate())',
    });
    await asyncTask.migrate();
    await expect(asyncTask.checkReady()).resolves.toBeUndefined();
    const attempt = database.transaction(() => asyncTask.enqueueSync(database, 'Mailer', 'send', { to: 'a' }))();
    expect((await asyncTask.find(attempt.id))?.status).toBe('pending');
  });

  test.skipIf(!dialects.includes('postgres'))(
    'postgres: enqueue in a transaction, list and perform say to migrate; an unreachable server is DatabaseUnreachableError',
    async () => {
      const created = await createDatabase(inject('pgAdminUrl'));
      cleanups.push(created.drop);
      const pool = new pg.Pool({ connectionString: created.url, max: 1 });
      cleanups.push(() => pool.end());
      const asyncTask = createAsyncTask({ db: postgres(pool), targets });
      // One connection, held by the caller's transaction: enqueue must not wait for a second one.
      const client = await pool.connect();
      await client.query('BEGIN');
      await expect(asyncTask.enqueue(client, 'Mailer', 'send', { to: 'a' })).rejects.toBeInstanceOf(
        SchemaNotMigratedError,
      );
      await client.query('ROLLBACK');
      client.release();
      await expect(asyncTask.list()).rejects.toBeInstanceOf(SchemaNotMigratedError);
      await expect(asyncTask.perform(1)).rejects.toMatchObject({ code: 'NOT_MIGRATED' });
      await asyncTask.migrate();
      await expect(asyncTask.list()).resolves.toMatchObject({ attempts: [] });

      const nowhere = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/postgres' });
      nowhere.on('error', () => {});
      cleanups.push(() => nowhere.end());
      const unreachable = createAsyncTask({ db: postgres(nowhere), targets });
      const error = await unreachable.find(1).catch((caught) => caught);
      expect(error).toBeInstanceOf(DatabaseUnreachableError);
      expect(error.message).toContain('Cannot reach the database: connect ECONNREFUSED 127.0.0.1:1');
    },
  );
});
