import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { inject } from 'vitest';
import { mysql as mysqlDriver } from '../../src/drivers/mysql.js';
import { postgres } from '../../src/drivers/postgres.js';
import { createAsyncTask } from '../../src/index.js';
import { mysqlTestDatabases, mysqlUrl, withMysqlTransaction } from '../support/mysql-database.js';
import { withPgTransaction } from '../support/pg-transaction.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const WORKER_SCRIPT = path.join(here, 'fixtures', 'worker-process.ts');

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` holds; fails with `what` after `ms`. */
export async function until(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await sleep(50);
  }
}

export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
  /** Resolves with the exit code (or the signal's name). */
  readonly exited: Promise<number | string>;
}

/** Starts test/worker/fixtures/worker-process.ts (or `script`) under tsx and waits for it to say `ready`. */
export async function startWorkerProcess(env: Record<string, string>, script = WORKER_SCRIPT): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const deadline = Date.now() + 20_000;
  while (!output.includes('ready')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`worker process did not start:\n${output}`);
    }
    await sleep(20);
  }
  return { child, output: () => output, exited };
}

/** The targets as the test process sees them: only for typing enqueue (the worker process runs them). */
export const Counter = {
  async bump(_args: { key: string; ms?: number }) {},
  async fail(_args: { key: string }) {},
  async hang(_args: Record<string, never>) {},
};

/** A fresh schema on the test server's database, migrated, with a `counters` table for effects. */
export async function postgresSchema(adminUrl = inject('pgAdminUrl')) {
  const schema = `w_${randomBytes(5).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: adminUrl, max: 4 });
  pool.on('error', () => {});
  await pool.query(`CREATE SCHEMA ${schema}`);
  await pool.query(`CREATE TABLE ${schema}.counters (key text PRIMARY KEY, n integer NOT NULL)`);
  const asyncTask = createAsyncTask({ db: postgres(pool, { schema }), targets: { Counter } });
  await asyncTask.migrate();
  const one = async (sql: string, values: unknown[] = []) => (await pool.query(sql, values)).rows[0];
  return {
    schema,
    pool,
    asyncTask,
    env: { PG_URL: adminUrl, SCHEMA: schema },
    async enqueue(method: 'bump' | 'fail' | 'hang', argsList: Record<string, unknown>[]) {
      for (let start = 0; start < argsList.length; start += 1000) {
        await withPgTransaction(pool, (client) =>
          asyncTask.enqueueMany(client, 'Counter', method, argsList.slice(start, start + 1000) as never[]),
        );
      }
    },
    count: async (where: string, values: unknown[] = []) =>
      Number((await one(`SELECT count(*) AS n FROM ${schema}.async_task_attempts WHERE ${where}`, values)).n),
    counters: async () =>
      (await pool.query(`SELECT key, n FROM ${schema}.counters`)).rows as { key: string; n: number }[],
    async close() {
      await pool.end();
    },
  };
}

const mysqlDatabases = mysqlTestDatabases();

/** A fresh database on the MySQL test server, migrated, with a `counters` table for effects; dropped by `close`. */
export async function mysqlDatabase() {
  const database = await mysqlDatabases.create();
  const url = mysqlUrl(database);
  const pool = mysql.createPool({ uri: url, connectionLimit: 4 });
  await pool.query('CREATE TABLE counters (`key` VARCHAR(64) PRIMARY KEY, n INT NOT NULL)');
  const asyncTask = createAsyncTask({ db: mysqlDriver(pool), targets: { Counter } });
  await asyncTask.migrate();
  const rows = async (sql: string, values: unknown[] = []) => (await pool.query(sql, values))[0] as any[];
  return {
    pool,
    asyncTask,
    env: { MYSQL_URL: url },
    async enqueue(method: 'bump' | 'fail' | 'hang', argsList: Record<string, unknown>[]) {
      for (let start = 0; start < argsList.length; start += 1000) {
        await withMysqlTransaction(pool, (connection) =>
          asyncTask.enqueueMany(connection, 'Counter', method, argsList.slice(start, start + 1000) as never[]),
        );
      }
    },
    count: async (where: string) =>
      Number((await rows(`SELECT COUNT(*) AS n FROM async_task_attempts WHERE ${where}`))[0].n),
    counters: async () =>
      (await rows('SELECT `key` AS `key`, n FROM counters')).map((row) => ({ key: String(row.key), n: Number(row.n) })),
    async close() {
      await pool.end();
      await mysqlDatabases.drop();
    },
  };
}
