/**
 * `npx tsx bench/relay-bench.ts`: one run comparing, on the same PostgreSQL and Redis, in this one process:
 * direct workers (transactional), the relay + BullMQ consumers (performing through the contract), and
 * BullMQ alone (jobs that insert the same row with no transaction around them: the non-transactional
 * ceiling). Each target writes one row; all N attempts (or jobs) exist before the clock starts.
 * Knobs: PG_URL (the machine's PostgreSQL), REDIS_URL (127.0.0.1:6379), N (5000), C (concurrency, 8).
 */
import { randomBytes } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { postgres } from '../src/drivers/postgres.js';
import { createAsyncTask, type PerformContext } from '../src/index.js';
import { bullmqConsumer, bullmqPublisher } from '../src/relay/bullmq.js';

const PG_URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const N = Number(process.env.N ?? 5000);
const C = Number(process.env.C ?? 8);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (message: string) => process.stderr.write(`${message}\n`);

async function setup() {
  const schema = `relay_bench_${randomBytes(4).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: PG_URL, max: C + 4 });
  pool.on('error', () => {});
  await pool.query(`CREATE SCHEMA ${schema}`);
  await pool.query(`CREATE TABLE ${schema}.effects (i integer NOT NULL)`);
  const insert = `INSERT INTO ${schema}.effects (i) VALUES ($1)`;
  const Bench = {
    async run(args: { i: number }, ctx: PerformContext<pg.PoolClient>) {
      await ctx.tx.query(insert, [args.i]);
    },
  };
  const asyncTask = createAsyncTask({ db: postgres(pool, { schema }), targets: { Bench } });
  await asyncTask.migrate();
  const effects = async () => Number((await pool.query(`SELECT count(*) AS n FROM ${schema}.effects`)).rows[0].n);
  const enqueue = async () => {
    for (let start = 0; start < N; start += 1000) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const batch = Array.from({ length: Math.min(1000, N - start) }, (_, k) => ({ i: start + k }));
        await asyncTask.enqueueMany(client, 'Bench', 'run', batch);
        await client.query('COMMIT');
      } finally {
        client.release();
      }
    }
  };
  return {
    pool,
    asyncTask,
    insert,
    effects,
    enqueue,
    async close() {
      await pool.query(`DROP SCHEMA ${schema} CASCADE`);
      await pool.end();
    },
  };
}

async function timeUntilDone(count: () => Promise<number>): Promise<number> {
  const started = performance.now();
  while ((await count()) < N) await sleep(20);
  return performance.now() - started;
}

async function directWorkers(): Promise<number> {
  const db = await setup();
  await db.enqueue();
  const worker = db.asyncTask.worker({ concurrency: C, retention: false, pollIntervalMs: 100 });
  const started = performance.now();
  await worker.start();
  await timeUntilDone(db.effects);
  const ms = performance.now() - started;
  await worker.stop();
  await db.close();
  return ms;
}

async function relayToBullmq(): Promise<number> {
  const db = await setup();
  const name = `relay-bench-${randomBytes(4).toString('hex')}`;
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(name, { connection });
  await db.enqueue();
  const relay = db.asyncTask.relay({ to: bullmqPublisher({ queue }), pollIntervalMs: 100 });
  const consumer = bullmqConsumer(db.asyncTask, { connection, queueName: name, concurrency: C });
  const started = performance.now();
  await relay.start();
  await timeUntilDone(db.effects);
  const ms = performance.now() - started;
  await relay.stop();
  await consumer.close();
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  await db.close();
  return ms;
}

async function bullmqAlone(): Promise<number> {
  const db = await setup();
  const name = `bullmq-bench-${randomBytes(4).toString('hex')}`;
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(name, { connection });
  for (let start = 0; start < N; start += 1000) {
    await queue.addBulk(
      Array.from({ length: Math.min(1000, N - start) }, (_, k) => ({
        name: 'run',
        data: { i: start + k },
        opts: { removeOnComplete: true },
      })),
    );
  }
  const started = performance.now();
  const worker = new Worker(
    name,
    async (job) => {
      await db.pool.query(db.insert, [job.data.i]);
    },
    { connection, concurrency: C },
  );
  await timeUntilDone(db.effects);
  const ms = performance.now() - started;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  await db.close();
  return ms;
}

async function main() {
  log(`relay bench: N=${N}, C=${C}, PostgreSQL ${PG_URL}, Redis ${REDIS_URL}`);
  const rows: [string, number][] = [];
  for (const [label, run] of [
    ['direct workers (transactional)', directWorkers],
    ['relay + BullMQ consumers', relayToBullmq],
    ['BullMQ alone (no transaction)', bullmqAlone],
  ] as const) {
    log(`running: ${label}`);
    rows.push([label, await run()]);
  }
  console.log(`| setup (N=${N}, concurrency ${C}, one process) | seconds | attempts/s |`);
  console.log('| --- | ---: | ---: |');
  for (const [label, ms] of rows)
    console.log(`| ${label} | ${(ms / 1000).toFixed(2)} | ${Math.round(N / (ms / 1000))} |`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
