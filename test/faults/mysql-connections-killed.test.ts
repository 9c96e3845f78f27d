import mysql from 'mysql2/promise';
import { afterEach, describe, expect, it } from 'vitest';
import { mysql as mysqlDriver } from '../../src/drivers/mysql.js';
import { createAsyncTask, type PerformContext, type Worker } from '../../src/index.js';
import {
  mysqlSkipNote,
  mysqlTestDatabases,
  mysqlUnreachable,
  mysqlUrl,
  withMysqlTransaction,
} from '../support/mysql-database.js';

// The worker's MySQL connections killed (KILL CONNECTION) again and again while it runs: nothing is lost, nothing
// stays held, and in the transactional mode each attempt's write through ctx.tx lands exactly once.

const databases = mysqlTestDatabases();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const suite = mysqlUnreachable ? describe.skip : describe;
const open: { pools: mysql.Pool[]; workers: Worker[] } = { pools: [], workers: [] };

afterEach(async () => {
  await Promise.all(open.workers.splice(0).map((worker) => worker.stop({ timeoutMs: 2000 })));
  await Promise.all(open.pools.splice(0).map((pool) => pool.end()));
  await databases.drop();
});

suite(mysqlUnreachable ? mysqlSkipNote('mysql: connections killed') : 'mysql: connections killed', () => {
  for (const mode of ['transactional', 'leased'] as const) {
    it(`${mode}: every attempt ends succeeded, none held; effects exactly once where they go through ctx.tx`, async () => {
      const database = await databases.create();
      const pool = (options: mysql.PoolOptions = {}) => {
        const made = mysql.createPool({ uri: mysqlUrl(database), connectionLimit: 8, ...options });
        open.pools.push(made);
        return made;
      };
      const app = pool();
      const admin = await mysql.createConnection({ uri: mysqlUrl(database) });
      const effects = pool();
      const Counter = {
        async bump(args: { key: string }, ctx: PerformContext<mysql.PoolConnection>) {
          await sleep(5);
          const db = mode === 'transactional' ? ctx.tx : effects;
          await db.query('INSERT INTO effects (`key`) VALUES (?)', [args.key]);
        },
      };
      const asyncTask = createAsyncTask({ db: mysqlDriver(pool()), targets: { Counter }, retry: { maxAttempts: 50 } });
      await asyncTask.migrate();
      const keys = Array.from({ length: 200 }, (_, index) => ({ key: `k-${index}` }));
      await withMysqlTransaction(app, (tx) => asyncTask.enqueueMany(tx, 'Counter', 'bump', keys));
      const worker = asyncTask.worker({ mode, concurrency: 4, batchSize: 10, pollIntervalMs: 50, leaseMs: 1500 });
      open.workers.push(worker);
      const errors: string[] = [];
      worker.on('error', ({ during }) => errors.push(during));
      await worker.start();

      const pending = async () => {
        const [rows] = await admin.query('SELECT COUNT(*) AS n FROM async_task_attempts_hot');
        return Number((rows as { n: number }[])[0]?.n);
      };
      let kills = 0;
      for (let round = 0; round < 8 && (await pending()) > 0; round++) {
        await sleep(60);
        const [rows] = await admin.query(
          'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()',
          [database],
        );
        for (const { id } of rows as { id: number }[]) {
          await admin.query(`KILL CONNECTION ${Number(id)}`).catch(() => {});
          kills++;
        }
      }
      expect(kills).toBeGreaterThan(0);
      for (let waited = 0; (await pending()) > 0 && waited < 30_000; waited += 100) await sleep(100);
      await worker.stop();

      const [statuses] = await admin.query('SELECT status, COUNT(*) AS n FROM async_task_attempts GROUP BY status');
      expect(statuses).toEqual([{ status: 'succeeded', n: 200 }]);
      const [counted] = await admin.query('SELECT `key`, COUNT(*) AS n FROM effects GROUP BY `key`');
      const perKey = counted as { key: string; n: number }[];
      expect(perKey).toHaveLength(200);
      if (mode === 'transactional') expect(perKey.every((row) => Number(row.n) === 1)).toBe(true);
      else expect(perKey.every((row) => Number(row.n) >= 1)).toBe(true);
      const [held] = await admin.query('SELECT COUNT(*) AS n FROM async_task_attempts WHERE lease_owner IS NOT NULL');
      expect(Number((held as { n: number }[])[0]?.n)).toBe(0);
      await admin.end();
    }, 60_000);
  }
});
