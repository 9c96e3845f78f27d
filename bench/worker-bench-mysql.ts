/**
 * `npm run bench:mysql`: the worker's figures on MySQL or MariaDB at MYSQL_URL (default: the local server, root,
 * no password), each run in a throwaway database. Knobs as `npm run bench`: N (jobs per run, 20000), C (clients and
 * concurrency, 8), BATCH (100), POLL_MS (500), LATENCY_JOBS (300), HISTORY (1000000 completed rows for the history
 * run; 0 skips it), ONLY_PROCESSING=1. Pickup latency is measured twice: an enqueue through the worker's own
 * AsyncTask (woken in process) and through another one (found by polling: MySQL has no NOTIFY). Prints a table.
 */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { mysql as mysqlDriver } from '../src/drivers/mysql.js';
import { type AsyncTask, createAsyncTask, type WorkerMode } from '../src/index.js';

const URL_BASE = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/';
const N = Number(process.env.N ?? 20_000);
const C = Number(process.env.C ?? 8);
const BATCH = Number(process.env.BATCH ?? 100);
const POLL_MS = Number(process.env.POLL_MS ?? 500);
const LATENCY_JOBS = Number(process.env.LATENCY_JOBS ?? 300);
const HISTORY = Number(process.env.HISTORY ?? 1_000_000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (message: string) => process.stderr.write(`${message}\n`);

let onRun: (args: { i: number }) => void = () => {};
const targets = {
  Bench: {
    async run(args: { i: number }) {
      onRun(args);
    },
  },
};

const databases: string[] = [];

/** A fresh database with the store migrated, and an AsyncTask over a pool of C + 2 connections. */
async function freshQueue() {
  const name = `bench_${randomBytes(4).toString('hex')}`;
  const admin = await mysql.createConnection({ uri: URL_BASE });
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  databases.push(name);
  const url = new URL(URL_BASE);
  url.pathname = `/${name}`;
  const pool = mysql.createPool({ uri: url.toString(), connectionLimit: C + 2 });
  const asyncTask = createAsyncTask({ db: mysqlDriver(pool), targets });
  await asyncTask.migrate();
  const pending = async () => {
    const [rows] = await pool.query('SELECT COUNT(*) AS n FROM async_task_attempts_hot');
    return Number((rows as { n: number }[])[0]?.n);
  };
  const inTransaction = async (fn: (connection: mysql.PoolConnection) => Promise<unknown>) => {
    const connection = await pool.getConnection();
    try {
      await connection.beginTransaction();
      await fn(connection);
      await connection.commit();
    } finally {
      connection.release();
    }
  };
  const bulk = async (count: number) => {
    for (let start = 0; start < count; start += 500) {
      const args = Array.from({ length: Math.min(500, count - start) }, (_, k) => ({ i: start + k }));
      await inTransaction((connection) => asyncTask.enqueueMany(connection, 'Bench', 'run', args));
    }
    await pool.query('ANALYZE TABLE async_task_attempts_hot');
  };
  return { url: url.toString(), pool, asyncTask, pending, inTransaction, bulk, close: () => pool.end() };
}

async function lanes(count: number, total: number, work: (index: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: count }, async () => {
      while (next < total) await work(next++);
    }),
  );
}

async function enqueueOnePerTransaction(): Promise<number> {
  const queue = await freshQueue();
  const total = Math.min(N, 5000);
  const started = performance.now();
  await lanes(C, total, (i) => queue.inTransaction((tx) => queue.asyncTask.enqueue(tx, 'Bench', 'run', { i })));
  const rate = total / ((performance.now() - started) / 1000);
  await queue.close();
  return rate;
}

async function enqueueBulk(): Promise<number> {
  const queue = await freshQueue();
  const started = performance.now();
  const batches = Math.ceil(N / 500);
  await lanes(C, batches, (b) =>
    queue.inTransaction((tx) =>
      queue.asyncTask.enqueueMany(
        tx,
        'Bench',
        'run',
        Array.from({ length: 500 }, (_, k) => ({ i: b * 500 + k })),
      ),
    ),
  );
  const rate = (batches * 500) / ((performance.now() - started) / 1000);
  await queue.close();
  return rate;
}

/** Completed rows in the history, as retention would find them, with ids below the queue's. */
async function seedHistory(pool: mysql.Pool, rows: number): Promise<void> {
  const digits =
    'SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9';
  for (let start = 0; start < rows; start += 100_000) {
    await pool.query(
      `INSERT INTO async_task_attempts_history
         (id, status, target, method_name, method_args, encryptor, num_attempts, completed_at, created_at, updated_at)
       SELECT ? + a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d + 1, 'succeeded', 'Bench', 'run', '{"i":0}',
         'none', 1, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6) - INTERVAL 1 HOUR, UTC_TIMESTAMP(6)
       FROM (${digits}) a, (${digits}) b, (${digits}) c, (${digits}) e, (${digits}) f`,
      [start],
    );
  }
  await pool.query(`ALTER TABLE async_task_attempts_hot AUTO_INCREMENT = ${Math.ceil(rows / 100_000) * 100_000 + 1}`);
  await pool.query('ANALYZE TABLE async_task_attempts_history');
}

/** Pre-queues N (and `history` completed rows), then times a worker until none is pending. */
async function processing(mode: WorkerMode, history = 0): Promise<{ rate: number; rssMb: number }> {
  const queue = await freshQueue();
  if (history > 0) await seedHistory(queue.pool, history);
  await queue.bulk(N);
  let seen = 0;
  onRun = () => {
    seen++;
  };
  const worker = queue.asyncTask.worker({
    mode,
    concurrency: C,
    batchSize: BATCH,
    pollIntervalMs: POLL_MS,
    retention: false,
  });
  const started = performance.now();
  await worker.start();
  while ((await queue.pending()) > 0) await sleep(10);
  const rate = N / ((performance.now() - started) / 1000);
  const rssMb = process.memoryUsage().rss / 1024 / 1024;
  await worker.stop();
  if (seen !== N) throw new Error(`expected ${N} runs, saw ${seen}`);
  await queue.close();
  return { rate, rssMb };
}

/**
 * One enqueue per transaction every 10 ms to an idle worker: enqueue commit → target start. `viaOther`: enqueued
 * through a second AsyncTask on its own pool (another process's view: no in-process wake, only polling).
 */
async function pickupLatency(mode: WorkerMode, viaOther: boolean): Promise<{ p50: number; p99: number }> {
  const queue = await freshQueue();
  const otherPool = viaOther ? mysql.createPool({ uri: queue.url, connectionLimit: 2 }) : null;
  const enqueuer: AsyncTask<typeof targets, any> = otherPool
    ? createAsyncTask({ db: mysqlDriver(otherPool), targets })
    : queue.asyncTask;
  const committedAt: number[] = [];
  const startedAt: number[] = [];
  onRun = ({ i }) => {
    startedAt[i] = performance.now();
  };
  const worker = queue.asyncTask.worker({
    mode,
    concurrency: C,
    batchSize: BATCH,
    pollIntervalMs: POLL_MS,
    retention: false,
  });
  await worker.start();
  await sleep(1000);
  for (let i = 0; i < LATENCY_JOBS; i++) {
    const tick = performance.now();
    await queue.inTransaction((tx) => enqueuer.enqueue(tx, 'Bench', 'run', { i }));
    committedAt[i] = performance.now();
    await sleep(Math.max(0, 10 - (performance.now() - tick)));
  }
  while ((await queue.pending()) > 0) await sleep(10);
  await worker.stop();
  await otherPool?.end();
  await queue.close();
  const latencies = committedAt.map((at, i) => (startedAt[i] as number) - at).sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99) };
}

async function main() {
  const rows: [string, string][] = [];
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const admin = await mysql.createConnection({ uri: URL_BASE });
  const [[version]] = (await admin.query('SELECT VERSION() AS v')) as unknown as [{ v: string }[]];
  await admin.end();
  try {
    if (!process.env.ONLY_PROCESSING) {
      log('enqueue, one per transaction…');
      rows.push(['enqueue, 1 per transaction (jobs/s)', fmt(await enqueueOnePerTransaction())]);
      log('enqueueMany, 500 per transaction…');
      rows.push(['enqueueMany, 500 per transaction (jobs/s)', fmt(await enqueueBulk())]);
    }
    let rss = 0;
    const empty: Record<string, number> = {};
    for (const mode of ['transactional', 'leased'] as const) {
      log(`processing, ${mode}…`);
      const { rate, rssMb } = await processing(mode);
      empty[mode] = rate;
      rss = Math.max(rss, rssMb);
      rows.push([`processing, ${mode} (jobs/s)`, fmt(rate)]);
    }
    for (const mode of process.env.ONLY_PROCESSING ? [] : (['transactional', 'leased'] as const)) {
      for (const viaOther of [false, true]) {
        log(`pickup latency, ${mode}, ${viaOther ? 'another process' : 'same process'}…`);
        const { p50, p99 } = await pickupLatency(mode, viaOther);
        const how = viaOther ? `enqueued elsewhere (polling, POLL_MS=${POLL_MS})` : 'enqueued in process (woken)';
        rows.push([`pickup latency, ${mode}, ${how}: p50 / p99 (ms)`, `${p50.toFixed(2)} / ${p99.toFixed(2)}`]);
      }
    }
    if (HISTORY > 0) {
      for (const mode of ['transactional', 'leased'] as const) {
        log(`processing with ${fmt(HISTORY)} completed rows, ${mode}…`);
        const { rate } = await processing(mode, HISTORY);
        rows.push([
          `processing, ${mode}, ${fmt(HISTORY)} completed rows in the history (jobs/s; vs empty)`,
          `${fmt(rate)} (${(rate / (empty[mode] as number)).toFixed(2)}×)`,
        ]);
      }
    }
    rows.push(['worker process RSS after processing (MB)', rss.toFixed(0)]);
  } finally {
    const cleanup = await mysql.createConnection({ uri: URL_BASE });
    for (const name of databases) await cleanup.query(`DROP DATABASE IF EXISTS ${name}`);
    await cleanup.end();
  }
  console.log(`\n| figure (${version?.v}; N=${N}, C=${C}, BATCH=${BATCH}, POLL_MS=${POLL_MS}) | value |\n|---|--:|`);
  for (const [name, value] of rows) console.log(`| ${name} | ${value} |`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
