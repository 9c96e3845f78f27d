// async-task's relay handing off to BullMQ consumers in this process, for the PostgreSQL peer harness (see
// docs/relay.md). Plain ESM over the compiled output: run `npm run build` first. Redis: REDIS_URL or
// 127.0.0.1:6379.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { postgres } from '../../dist/drivers/postgres.js';
import { createAsyncTask } from '../../dist/index.js';
import { bullmqConsumer, bullmqPublisher } from '../../dist/relay/bullmq.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

let options;
let pool;
let asyncTask;
let connection;
let queue;
let relay = null;
let consumer = null;
let onJob = () => {};
const targets = {
  Bench: {
    async run(payload) {
      onJob(payload);
    },
  },
};

export default {
  name: 'async-task-relay-bullmq',
  version: pkg.version,
  settings(o) {
    return {
      mode: 'relay to BullMQ; consumers perform(id) under the contract (two commits per attempt)',
      wakeup: 'relay: LISTEN + coalesced pg_notify, polling fallback; consumers: BullMQ (Redis)',
      poll_ms: o.pollMs,
      batch: o.batch,
      concurrency: o.concurrency,
      pool_max: o.concurrency + 3,
      enqueue: 'asyncTask.enqueue(client, …) on the caller client (one INSERT)',
      bulkEnqueue: 'asyncTask.enqueueMany(client, …): one INSERT … SELECT FROM unnest',
      completion: 'row UPDATEd to succeeded in the transaction that called the target; BullMQ job completed after',
    };
  },
  async setup(url, o) {
    options = o;
    pool = new pg.Pool({ connectionString: url, max: o.concurrency + 3 });
    pool.on('error', () => {});
    asyncTask = createAsyncTask({ db: postgres(pool), targets });
    await asyncTask.migrate();
    connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    queue = new Queue(`peer-${randomBytes(4).toString('hex')}`, { connection });
  },
  async enqueue(client, n, payloads) {
    for (let k = 0; k < n; k++) await asyncTask.enqueue(client, 'Bench', 'run', payloads[k]);
  },
  async bulkEnqueue(client, n, payloads) {
    await asyncTask.enqueueMany(client, 'Bench', 'run', payloads.slice(0, n));
  },
  async startWorker(concurrency, handler) {
    onJob = handler;
    consumer = bullmqConsumer(asyncTask, { connection, queueName: queue.name, concurrency });
    relay = asyncTask.relay({
      to: bullmqPublisher({ queue }),
      batchSize: options.batch,
      pollIntervalMs: options.pollMs,
    });
    await relay.start();
  },
  async countPending(client) {
    const { rows } = await client.query(
      "SELECT count(*)::int AS n FROM async_task.async_task_attempts WHERE status = 'pending'",
    );
    return rows[0].n;
  },
  async stop() {
    await relay?.stop();
    await consumer?.close();
    relay = null;
    consumer = null;
    await queue?.obliterate({ force: true }).catch(() => {});
    await queue?.close();
    connection?.disconnect();
    await pool?.end();
  },
};
