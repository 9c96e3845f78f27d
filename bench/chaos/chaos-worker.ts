/**
 * One worker process of the chaos run (bench/chaos/chaos.ts starts, kills and restarts them).
 * Configured by environment variables; prints `ready` once started and `stopped` after a graceful
 * stop on SIGTERM. Every call of a target is appended to `$CHAOS_DIR/calls-<pid>.log`.
 */
import path from 'node:path';
import pg from 'pg';
import { postgres } from '../../src/drivers/postgres.js';
import { createAsyncTask, type WorkerMode } from '../../src/index.js';
import { chaosTargets, fileLog, MAX_ATTEMPTS, POISON_MAX_ATTEMPTS, TIMEOUT_MS } from './targets.js';

const env = process.env;
const mode = (env.WORKER_MODE ?? 'transactional') as WorkerMode;
const concurrency = Number(env.CONCURRENCY ?? 4);
const schema = env.SCHEMA as string;

/** Set once started; SIGTERM before that stops as soon as the worker runs. */
let stop: (() => Promise<void>) | null = null;
let terminated = false;
process.on('SIGTERM', () => {
  if (terminated) return;
  terminated = true;
  if (stop) void stop();
});

async function main() {
  const pool = new pg.Pool({
    connectionString: env.PG_URL,
    max: concurrency + 4,
    application_name: `chaos-w-${schema}`,
    connectionTimeoutMillis: 5000,
  });
  // A connection killed while idle in the pool: expected under chaos, never fatal.
  pool.on('error', (error) => console.error(`pool error: ${error.message}`));
  const side = new pg.Pool({ connectionString: env.PG_URL, max: concurrency, application_name: `chaos-side` });
  side.on('error', () => {});
  const targets = chaosTargets({
    mode,
    side,
    schema,
    log: fileLog(path.join(env.CHAOS_DIR as string, `calls-${process.pid}.log`)),
  });
  const asyncTask = createAsyncTask({
    db: postgres(pool, { schema }),
    targets,
    retry: {
      maxAttempts: MAX_ATTEMPTS,
      backoff: (n) => 100 * n,
      overrides: { Poison: { maxAttempts: POISON_MAX_ATTEMPTS, backoff: () => 100 } },
    },
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  });
  const worker = asyncTask.worker({
    mode,
    concurrency,
    batchSize: 20,
    pollIntervalMs: 250,
    leaseMs: Number(env.LEASE_MS ?? 2000),
    timeoutMs: TIMEOUT_MS,
    workerId: `${mode}-${env.SLOT}-${process.pid}`,
    retention: false,
  });
  stop = async () => {
    try {
      await worker.stop({ timeoutMs: 3000 });
      await asyncTask.close();
      await Promise.all([pool.end(), side.end()]);
      console.log('stopped');
      process.exit(0);
    } catch (error) {
      console.error(`stop failed: ${String(error)}`);
      process.exit(3);
    }
  };
  await worker.start();
  console.log('ready');
  if (terminated) await stop();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
