/**
 * Times every query behind each dashboard page against 1,000,000 attempts in PostgreSQL, with the indexes of
 * migration 4 (on the history since migration 6) and then without them.
 *
 *   npx tsx bench/dashboard.ts                      # a throwaway embedded PostgreSQL 17
 *   BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/dashboard.ts
 *   BENCH_ROWS=200000 npx tsx bench/dashboard.ts    # fewer rows
 *
 * The seed is one SELECT over generate_series (enqueueing a million rows one by one would time the
 * enqueue, not the dashboard). Each query runs once to warm the cache, then BENCH_RUNS times (default 15);
 * the table shows the median and the slowest run in ms. Last, the write cost: enqueues per second with and without.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { postgres } from '../src/drivers/postgres.js';
import { createAsyncTask } from '../src/index.js';
import type { AttemptFilter, DashboardStore } from '../src/store/dashboard-store.js';
import { startEmbeddedPostgres } from '../test/support/embedded-postgres.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
/** Migration 4's indexes that migration 6 keeps, on the history. */
const MIGRATION_4_INDEXES = [
  'status_idx',
  'status_due_idx',
  'target_status_idx',
  'created_completed_idx',
  'token_idx',
  'completed_stats_idx',
];

async function seed(pool: pg.Pool, schema: string) {
  // 5 targets x 4 methods; 90 % succeeded, 5 % failed, 3 % expired, 2 % pending (half due, half later);
  // created over the last 30 days, so about 1,400 complete per hour; half carry an idempotence token.
  // Written straight into the tables behind the attempts view (migration 6): pending rows into the hot table,
  // the others into the history, tokens into the keys.
  await pool.query(
    `CREATE TEMP TABLE seed AS
     SELECT nextval('${schema}.async_task_attempts_ids') AS id, CASE WHEN i % 2 = 0 THEN 'token-' || i END AS idempotence_token,
       s.status, 'Target' || (i % 5) AS target, 'method' || ((i / 5) % 4) AS method_name,
       '{"n":' || i || '}' AS method_args, 'null' AS encryptor,
       CASE WHEN s.status = 'pending' THEN 0 ELSE 1 END AS num_attempts,
       CASE WHEN s.status = 'pending' AND i % 2 = 0 THEN now() + interval '1 hour' * (i % 48) END AS scheduled_at,
       CASE WHEN s.status <> 'pending' THEN c.created + interval '1 second' * (i % 90) END AS completed_at,
       c.created AS created_at, c.created AS updated_at,
       CASE WHEN s.status = 'failed' THEN 'Error: upstream said no (' || i || ')' END AS last_error,
       NULL::text AS lease_owner, NULL::timestamptz AS lease_expires_at
     FROM generate_series(1, $1::int) AS i,
       LATERAL (SELECT now() - interval '30 days' * (($1::int - i)::float8 / $1::int) AS created) AS c,
       LATERAL (SELECT CASE WHEN i % 100 < 90 THEN 'succeeded' WHEN i % 100 < 95 THEN 'failed'
                            WHEN i % 100 < 98 THEN 'expired' ELSE 'pending' END AS status) AS s
     ORDER BY i`,
    [ROWS],
  );
  await pool.query(`INSERT INTO ${schema}.async_task_attempts_hot SELECT * FROM seed WHERE status = 'pending'`);
  await pool.query(`INSERT INTO ${schema}.async_task_attempts_history SELECT * FROM seed WHERE status <> 'pending'`);
  await pool.query(`INSERT INTO ${schema}.async_task_attempts_keys
    SELECT target, method_name, idempotence_token, id FROM seed WHERE idempotence_token IS NOT NULL`);
  await pool.query('DROP TABLE seed');
  for (const table of ['hot', 'history', 'keys'])
    await pool.query(`VACUUM ANALYZE ${schema}.async_task_attempts_${table}`);
}

type Query = [page: string, name: string, run: () => Promise<unknown>];

function queries(
  store: DashboardStore,
  find: (id: string) => Promise<unknown>,
  cursor: string,
  someId: string,
): Query[] {
  const hourAgo = new Date(Date.now() - 3_600_000);
  const created: AttemptFilter = { timeField: 'created' };
  const due: AttemptFilter = { timeField: 'due' };
  const search =
    (filter: AttemptFilter, order: 'asc' | 'desc' = 'desc', extra = {}) =>
    () =>
      store.dashboardAttemptSearch({ ...filter, order, limit: 50, ...extra });
  return [
    ['overview', 'counts by status', () => store.dashboardStatusCounts(50_000)],
    ['overview', 'oldest due pending', () => store.dashboardOldestDueAt()],
    ['overview', 'workers (lease holders)', () => store.dashboardLeaseHolders()],
    ['overview', 'completions, last hour', () => store.dashboardCompletions(hourAgo)],
    ['attempts', 'newest first', search(created)],
    ['attempts', 'newest first, page 2 (cursor)', search(created, 'desc', { cursor })],
    ['attempts', 'oldest first', search(created, 'asc')],
    ['attempts', 'status=failed', search({ ...created, status: 'failed' })],
    ['attempts', 'status=pending by due', search({ ...due, status: 'pending' }, 'asc')],
    ['attempts', 'status=succeeded by due, newest', search({ ...due, status: 'succeeded' })],
    ['attempts', 'by due, no filter', search(due, 'asc')],
    ['attempts', 'target+method', search({ ...created, target: 'Target3', method: 'method1' })],
    [
      'attempts',
      'target+method+status=failed',
      search({ ...created, target: 'Target3', method: 'method1', status: 'failed' }),
    ],
    ['attempts', 'idempotence token', search({ ...created, idempotenceToken: 'token-500000' })],
    [
      'attempts',
      'created in one day',
      search({ ...created, from: new Date(Date.now() - 10 * 86_400_000), to: new Date(Date.now() - 9 * 86_400_000) }),
    ],
    [
      'attempts',
      'created in one day, oldest first',
      search(
        { ...created, from: new Date(Date.now() - 10 * 86_400_000), to: new Date(Date.now() - 9 * 86_400_000) },
        'asc',
      ),
    ],
    [
      'attempts',
      'created in 7 days',
      search({ ...created, from: new Date(Date.now() - 20 * 86_400_000), to: new Date(Date.now() - 13 * 86_400_000) }),
    ],
    ['attempt', 'find by id', () => find(someId)],
    ['targets', 'last 24 hours (default)', () => store.dashboardTargetStats(new Date(Date.now() - 86_400_000))],
    ['targets', 'last 7 days', () => store.dashboardTargetStats(new Date(Date.now() - 7 * 86_400_000))],
    ['targets', 'all time (full scan)', () => store.dashboardTargetStats(null)],
    ['actions', 'count status=failed (confirm)', () => store.dashboardAttemptCount({ ...created, status: 'failed' })],
    [
      'actions',
      'count target+method pending',
      () => store.dashboardAttemptCount({ ...created, target: 'Target1', method: 'method2', status: 'pending' }),
    ],
    [
      'actions',
      'next 500 ids, status=failed',
      () => store.dashboardAttemptIds({ ...created, status: 'failed' }, null, 500),
    ],
  ];
}

const ENQUEUES = Number(process.env.BENCH_ENQUEUES ?? 5000);

/** The write cost of the indexes: enqueues per second, one committed transaction each, 4 at a time. */
async function enqueueRate(pool: pg.Pool, asyncTask: { enqueue: (...args: any[]) => Promise<unknown> }) {
  const started = performance.now();
  let next = 0;
  const lane = async () => {
    const client = await pool.connect();
    try {
      while (next < ENQUEUES) {
        next++;
        await client.query('BEGIN');
        await asyncTask.enqueue(client, 'Bench', 'run', { n: next });
        await client.query('COMMIT');
      }
    } finally {
      client.release();
    }
  };
  await Promise.all([lane(), lane(), lane(), lane()]);
  return ENQUEUES / ((performance.now() - started) / 1000);
}

async function time(run: () => Promise<unknown>): Promise<{ median: number; max: number }> {
  await run();
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await run();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return { median: samples[Math.floor(samples.length / 2)]!, max: samples.at(-1)! };
}

async function main() {
  const embedded = process.env.BENCH_PG_URL ? null : await startEmbeddedPostgres();
  const url = process.env.BENCH_PG_URL ?? embedded!.url;
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  try {
    await pool.query(`CREATE SCHEMA ${schema}`);
    const store = postgres(pool, { schema });
    const asyncTask = createAsyncTask({ db: store, targets: { Bench: { async run(_args: { n: number }) {} } } });
    await asyncTask.migrate();
    let started = performance.now();
    await seed(pool, schema);
    console.log(
      `seeded ${ROWS.toLocaleString('en-US')} attempts in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    const dashboard = store.dashboardQueries();
    const first = await dashboard.dashboardAttemptSearch({ timeField: 'created', order: 'desc', limit: 50 });
    const someId = String(Math.floor(ROWS / 2));
    const list = queries(dashboard, (id) => asyncTask.find(id), first.nextCursor!, someId);

    const withIndexes: Record<string, { median: number; max: number }> = {};
    for (const [page, name, run] of list) withIndexes[`${page}|${name}`] = await time(run);
    const enqueueWith = await enqueueRate(pool, asyncTask);

    started = performance.now();
    for (const suffix of MIGRATION_4_INDEXES) {
      await pool.query(`DROP INDEX ${schema}.async_task_attempts_${suffix}`);
    }
    await pool.query(`ANALYZE ${schema}.async_task_attempts_history`);
    const without: Record<string, { median: number; max: number }> = {};
    for (const [page, name, run] of list) without[`${page}|${name}`] = await time(run);
    const enqueueWithout = await enqueueRate(pool, asyncTask);

    const { rows } = await pool.query('SELECT version()');
    console.log(
      `\n${String(rows[0].version).split(' on ')[0]}, ${ROWS.toLocaleString('en-US')} attempts, ${RUNS} runs each\n`,
    );
    console.log('| page | query | with migration 4: median (max) ms | without: median (max) ms |');
    console.log('| --- | --- | ---: | ---: |');
    for (const [page, name] of list) {
      const a = withIndexes[`${page}|${name}`]!;
      const b = without[`${page}|${name}`]!;
      console.log(
        `| ${page} | ${name} | ${a.median.toFixed(2)} (${a.max.toFixed(1)}) | ${b.median.toFixed(2)} (${b.max.toFixed(1)}) |`,
      );
    }
    console.log(
      `\nenqueue (${ENQUEUES} single-row transactions, 4 connections): ${enqueueWith.toFixed(0)}/s with migration 4, ${enqueueWithout.toFixed(0)}/s without`,
    );
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await pool.end();
    await embedded?.stop();
  }
}

await main();
