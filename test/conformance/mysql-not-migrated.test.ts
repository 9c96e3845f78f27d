import mysql from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { mysql as mysqlDriver } from '../../src/drivers/mysql.js';
import { createAsyncTask, DatabaseUnreachableError, SchemaNotMigratedError } from '../../src/index.js';
import { mysqlSkipNote, mysqlTestDatabases, mysqlUnreachable, mysqlUrl } from '../support/mysql-database.js';

const targets = { Mailer: { async send(_args: { to: string }) {} } };
const databases = mysqlTestDatabases();
const suite = mysqlUnreachable ? describe.skip : describe;

suite(mysqlUnreachable ? mysqlSkipNote('not migrated [mysql]') : 'not migrated [mysql]', () => {
  afterAll(() => databases.drop());

  it('enqueue in a transaction, list and perform say to migrate; an unreachable server is DatabaseUnreachableError', async () => {
    const pool = mysql.createPool({ uri: mysqlUrl(await databases.create()), connectionLimit: 1 });
    try {
      const asyncTask = createAsyncTask({ db: mysqlDriver(pool), targets });
      // One connection, held by the caller's transaction: enqueue must not wait for a second one.
      const connection = await pool.getConnection();
      await connection.beginTransaction();
      await expect(asyncTask.enqueue(connection, 'Mailer', 'send', { to: 'a' })).rejects.toBeInstanceOf(
        SchemaNotMigratedError,
      );
      await connection.rollback();
      connection.release();
      await expect(asyncTask.list()).rejects.toBeInstanceOf(SchemaNotMigratedError);
      await expect(asyncTask.perform(1)).rejects.toMatchObject({ code: 'NOT_MIGRATED' });
      await asyncTask.migrate();
      await expect(asyncTask.list()).resolves.toMatchObject({ attempts: [] });
    } finally {
      await pool.end();
    }

    const nowhere = mysql.createPool({ uri: 'mysql://root@127.0.0.1:1/none', connectTimeout: 2000 });
    try {
      const unreachable = createAsyncTask({ db: mysqlDriver(nowhere), targets });
      const error = await unreachable.find(1).catch((caught) => caught);
      expect(error).toBeInstanceOf(DatabaseUnreachableError);
      expect(error.message).toContain('ECONNREFUSED');
    } finally {
      await nowhere.end();
    }
  });
});
