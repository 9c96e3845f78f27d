/**
 * One test host of `bench/hosts/relay-hosts.ts`, run inside a network namespace: either a BullMQ consumer of
 * relay messages (MODE=bullmq) or a direct worker (MODE=worker), performing `Bench.run`, whose effect is
 * written through ctx.tx. Prints `ready` once consuming or polling; SIGTERM stops it gracefully.
 */
import pg from 'pg';
import { postgres } from '../../src/drivers/postgres.js';
import { createAsyncTask, type PerformContext } from '../../src/index.js';

const env = process.env;

async function main() {
  const concurrency = Number(env.C ?? 8);
  const pool = new pg.Pool({ connectionString: env.PG_URL, max: concurrency + 2 });
  pool.on('error', (error) => console.error('pool error', error.message));
  const insert = `INSERT INTO ${env.SCHEMA}.effects (i) VALUES ($1)`;
  const Bench = {
    async run(args: { i: number }, ctx: PerformContext<pg.PoolClient>) {
      await ctx.tx.query(insert, [args.i]);
    },
  };
  const asyncTask = createAsyncTask({ db: postgres(pool, { schema: env.SCHEMA }), targets: { Bench } });
  let close: () => Promise<void>;
  if (env.MODE === 'bullmq') {
    const { bullmqConsumer } = await import('../../src/relay/bullmq.js');
    const { Redis } = await import('ioredis');
    const connection = new Redis(env.REDIS_URL as string, { maxRetriesPerRequest: null });
    const consumer = bullmqConsumer(asyncTask, { connection, queueName: env.QUEUE_NAME as string, concurrency });
    consumer.on('error', (error) => console.error('consumer error', error.message));
    await consumer.waitUntilReady();
    close = async () => {
      await consumer.close();
      connection.disconnect();
    };
  } else {
    const worker = asyncTask.worker({ concurrency, retention: false, pollIntervalMs: 100 });
    await worker.start();
    close = () => worker.stop();
  }
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await close();
    await pool.end();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  console.log('ready');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
