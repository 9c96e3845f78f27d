/**
 * The worker's CPU per processed attempt, no-op target: pre-queues N attempts, then times one worker until
 * none is pending and reports wall-clock jobs/s and process CPU µs per attempt (process.cpuUsage around the
 * processing phase only; steadier than wall time on a shared machine). Knobs: DB=sqlite|pg (sqlite),
 * MODE=leased|transactional (both), N (20000), C (8), BATCH (100), PG_URL (for DB=pg). Run with
 * `node --cpu-prof` to profile: `npx tsx` forwards node flags.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { postgres } from '../src/drivers/postgres.js';
import { sqlite } from '../src/drivers/sqlite.js';
import { type AsyncTask, createAsyncTask, type WorkerMode } from '../src/index.js';

const N = Number(process.env.N ?? 20_000);
const C = Number(process.env.C ?? 8);
const BATCH = Number(process.env.BATCH ?? 100);
const DB = process.env.DB ?? 'sqlite';
const MODES = (process.env.MODE ? [process.env.MODE] : ['leased', 'transactional']) as WorkerMode[];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let seen = 0;
const targets = {
  Bench: {
    async run(_args: { i: number }) {
      seen++;
    },
  },
};

interface Queue {
  asyncTask: AsyncTask<typeof targets, any>;
  enqueueAll(): Promise<void>;
  pending(): Promise<number>;
  close(): Promise<void>;
}

async function sqliteQueue(): Promise<Queue> {
  const dir = mkdtempSync(join(tmpdir(), 'async-task-overhead-'));
  const db = new Database(join(dir, 'bench.db'));
  db.pragma('journal_mode = WAL');
  const asyncTask = createAsyncTask({ db: sqlite(db), targets });
  await asyncTask.migrate();
  return {
    asyncTask,
    async enqueueAll() {
      for (let start = 0; start < N; start += 500) {
        const args = Array.from({ length: Math.min(500, N - start) }, (_, k) => ({ i: start + k }));
        // A synchronous driver writes every row before enqueueMany returns its promise.
        let done: Promise<unknown> = Promise.resolve();
        db.transaction(() => {
          done = asyncTask.enqueueMany(db, 'Bench', 'run', args);
        })();
        await done;
      }
    },
    pending: async () =>
      (db.prepare("SELECT count(*) AS n FROM async_task_attempts WHERE status = 'pending'").get() as { n: number }).n,
    async close() {
      await asyncTask.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function pgQueue(url: string): Promise<Queue> {
  const schema = `overhead_${randomBytes(4).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: url, max: C + 2 });
  pool.on('error', () => {});
  await pool.query(`CREATE SCHEMA ${schema}`);
  const asyncTask = createAsyncTask({ db: postgres(pool, { schema }), targets });
  await asyncTask.migrate();
  return {
    asyncTask,
    async enqueueAll() {
      for (let start = 0; start < N; start += 500) {
        const args = Array.from({ length: Math.min(500, N - start) }, (_, k) => ({ i: start + k }));
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          await asyncTask.enqueueMany(client, 'Bench', 'run', args);
          await client.query('COMMIT');
        } finally {
          client.release();
        }
      }
      await pool.query(`ANALYZE ${schema}.async_task_attempts_hot`);
    },
    pending: async () =>
      Number((await pool.query(`SELECT count(*) AS n FROM ${schema}.async_task_attempts_hot`)).rows[0].n),
    async close() {
      await pool.query(`DROP SCHEMA ${schema} CASCADE`);
      await pool.end();
    },
  };
}

async function measure(mode: WorkerMode): Promise<void> {
  const queue =
    DB === 'pg' ? await pgQueue(process.env.PG_URL ?? 'postgres://127.0.0.1:5432/postgres') : await sqliteQueue();
  await queue.enqueueAll();
  seen = 0;
  const worker = queue.asyncTask.worker({ mode, concurrency: C, batchSize: BATCH, retention: false });
  const cpu = process.cpuUsage();
  const started = performance.now();
  await worker.start();
  while ((await queue.pending()) > 0) await sleep(5);
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  await worker.stop();
  if (seen !== N) throw new Error(`expected ${N} runs, saw ${seen}`);
  await queue.close();
  const cpuUs = (used.user + used.system) / N;
  console.log(
    `${DB} ${mode}: ${Math.round(N / (wallMs / 1000)).toLocaleString('en-US')} jobs/s, ${cpuUs.toFixed(1)} CPU µs/attempt`,
  );
}

for (const mode of MODES) await measure(mode);
