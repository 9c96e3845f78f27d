/**
 * `npm run bench`: the worker's figures on PostgreSQL, on a throwaway embedded server with durable
 * settings (fsync on, as the peer harness uses), or on PG_URL. Knobs: N (jobs per run, 20000),
 * C (clients and concurrency, 8), BATCH (100), POLL_MS (500), LATENCY_JOBS (300), HISTORY (1000000
 * completed rows for the history run; 0 skips it), DASHBOARD_INDEXES=0, ONLY_PROCESSING=1. Prints a table.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { postgres } from '../src/drivers/postgres.js';
import { createAsyncTask, type WorkerMode } from '../src/index.js';
import { startEmbeddedPostgres } from '../test/support/embedded-postgres.js';

const N = Number(process.env.N ?? 20_000);
const C = Number(process.env.C ?? 8);
const BATCH = Number(process.env.BATCH ?? 100);
const POLL_MS = Number(process.env.POLL_MS ?? 500);
const LATENCY_JOBS = Number(process.env.LATENCY_JOBS ?? 300);
const HISTORY = Number(process.env.HISTORY ?? 1_000_000);
/** DASHBOARD_INDEXES=0 drops migration 4's indexes after migrating, to show what they cost the hot path. */
const DASHBOARD_INDEXES = process.env.DASHBOARD_INDEXES !== '0';
/** Migration 4's indexes that migration 6 keeps, on the history. */
const MIGRATION_4_INDEXES = [
  'status_idx',
  'status_due_idx',
  'target_status_idx',
  'created_completed_idx',
  'token_idx',
  'completed_stats_idx',
];
const DURABLE = ['-c', 'fsync=on', '-c', 'shared_buffers=256MB', '-c', 'max_wal_size=8GB'];
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

/** A fresh schema with the attempts table, and an AsyncTask over a pool of C + 2 connections. */
async function freshQueue(url: string) {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: url, max: C + 2 });
  pool.on('error', () => {});
  await pool.query(`CREATE SCHEMA ${schema}`);
  const asyncTask = createAsyncTask({ db: postgres(pool, { schema }), targets });
  await asyncTask.migrate();
  if (!DASHBOARD_INDEXES) {
    for (const suffix of MIGRATION_4_INDEXES) await pool.query(`DROP INDEX ${schema}.async_task_attempts_${suffix}`);
  }
  const pending = async () =>
    Number((await pool.query(`SELECT count(*) AS n FROM ${schema}.async_task_attempts_hot`)).rows[0].n);
  const inTransaction = async (fn: (client: pg.PoolClient) => Promise<unknown>) => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await fn(client);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
  };
  const bulk = async (count: number) => {
    for (let start = 0; start < count; start += 500) {
      const args = Array.from({ length: Math.min(500, count - start) }, (_, k) => ({ i: start + k }));
      await inTransaction((client) => asyncTask.enqueueMany(client, 'Bench', 'run', args));
    }
    await pool.query(`ANALYZE ${schema}.async_task_attempts_hot`);
  };
  return { schema, pool, asyncTask, pending, inTransaction, bulk, close: () => pool.end() };
}

async function lanes(count: number, total: number, work: (index: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: count }, async () => {
      while (next < total) await work(next++);
    }),
  );
}

async function enqueueOnePerTransaction(url: string): Promise<number> {
  const queue = await freshQueue(url);
  const total = Math.min(N, 5000);
  const started = performance.now();
  await lanes(C, total, (i) => queue.inTransaction((client) => queue.asyncTask.enqueue(client, 'Bench', 'run', { i })));
  const rate = total / ((performance.now() - started) / 1000);
  await queue.close();
  return rate;
}

async function enqueueBulk(url: string): Promise<number> {
  const queue = await freshQueue(url);
  const started = performance.now();
  const batches = Math.ceil(N / 500);
  await lanes(C, batches, (b) =>
    queue.inTransaction((client) =>
      queue.asyncTask.enqueueMany(
        client,
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

/** Pre-queues N (and `history` completed rows), then times a worker until none is pending. */
async function processing(url: string, mode: WorkerMode, history = 0): Promise<{ rate: number; rssMb: number }> {
  const queue = await freshQueue(url);
  if (history > 0) {
    // Completed history as retention would find it: seeded directly, in one statement per 100k rows.
    for (let start = 0; start < history; start += 100_000) {
      await queue.pool.query(
        `INSERT INTO ${queue.schema}.async_task_attempts_history
           (status, target, method_name, method_args, encryptor, num_attempts, completed_at, created_at)
         SELECT 'succeeded', 'Bench', 'run', '{"i":0}', 'none', 1, now(), now() - interval '1 hour'
         FROM generate_series(1, $1)`,
        [Math.min(100_000, history - start)],
      );
    }
    await queue.pool.query(`VACUUM ANALYZE ${queue.schema}.async_task_attempts_history`);
  }
  await queue.bulk(N);
  await queue.pool.query('CHECKPOINT');
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

/** One enqueue per transaction every 10 ms to an idle worker: enqueue commit → target start. */
async function pickupLatency(url: string, mode: WorkerMode): Promise<{ p50: number; p99: number }> {
  const queue = await freshQueue(url);
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
    await queue.inTransaction((client) => queue.asyncTask.enqueue(client, 'Bench', 'run', { i }));
    committedAt[i] = performance.now();
    await sleep(Math.max(0, 10 - (performance.now() - tick)));
  }
  while ((await queue.pending()) > 0) await sleep(10);
  await worker.stop();
  await queue.close();
  // Slightly negative is possible: the worker can start before the enqueuer handles its COMMIT reply.
  const latencies = committedAt.map((at, i) => (startedAt[i] as number) - at).sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99) };
}

async function main() {
  const external = process.env.PG_URL;
  const server = external ? null : await startEmbeddedPostgres(DURABLE);
  const url = external ?? (server?.url as string);
  const rows: [string, string][] = [];
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  try {
    if (!process.env.ONLY_PROCESSING) {
      log('enqueue, one per transaction…');
      rows.push(['enqueue, 1 per transaction (jobs/s)', fmt(await enqueueOnePerTransaction(url))]);
      log('enqueueMany, 500 per transaction…');
      rows.push(['enqueueMany, 500 per transaction (jobs/s)', fmt(await enqueueBulk(url))]);
    }
    let rss = 0;
    const empty: Record<string, number> = {};
    for (const mode of ['transactional', 'leased'] as const) {
      log(`processing, ${mode}…`);
      const { rate, rssMb } = await processing(url, mode);
      empty[mode] = rate;
      rss = Math.max(rss, rssMb);
      rows.push([`processing, ${mode} (jobs/s)`, fmt(rate)]);
    }
    for (const mode of process.env.ONLY_PROCESSING ? [] : (['transactional', 'leased'] as const)) {
      log(`pickup latency, ${mode}…`);
      const { p50, p99 } = await pickupLatency(url, mode);
      rows.push([`pickup latency, ${mode}: p50 / p99 (ms)`, `${p50.toFixed(2)} / ${p99.toFixed(2)}`]);
    }
    if (HISTORY > 0) {
      for (const mode of ['transactional', 'leased'] as const) {
        log(`processing with ${fmt(HISTORY)} completed rows, ${mode}…`);
        const { rate } = await processing(url, mode, HISTORY);
        rows.push([
          `processing, ${mode}, ${fmt(HISTORY)} completed rows in the table (jobs/s; vs empty)`,
          `${fmt(rate)} (${(rate / (empty[mode] as number)).toFixed(2)}×)`,
        ]);
      }
    }
    rows.push(['worker process RSS after processing (MB)', rss.toFixed(0)]);
  } finally {
    await server?.stop();
  }
  const indexes = DASHBOARD_INDEXES ? 'with' : 'without';
  console.log(
    `\n| figure (N=${N}, C=${C}, BATCH=${BATCH}, POLL_MS=${POLL_MS}, ${indexes} migration 4's indexes) | value |\n|---|--:|`,
  );
  for (const [name, value] of rows) console.log(`| ${name} | ${value} |`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
