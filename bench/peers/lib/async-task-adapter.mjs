// Shared body of the peer-harness adapters of this project (one file per mode beside this folder).
// Plain ESM over the compiled output: run `npm run build` first.
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { postgres } from '../../../dist/drivers/postgres.js';
import { createAsyncTask } from '../../../dist/index.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));

/** The adapter contract of the PostgreSQL peer harness (see its README) for one worker mode. */
export function asyncTaskAdapter(mode) {
  let options;
  let pool;
  let asyncTask;
  let attemptsView;
  let worker = null;
  let onJob = () => {};
  const targets = {
    Bench: {
      async run(payload) {
        onJob(payload);
      },
    },
  };

  return {
    name: `async-task-${mode}`,
    version: pkg.version,
    settings(o) {
      return {
        mode,
        wakeup: 'LISTEN + one coalesced pg_notify per burst, sent outside the enqueue transaction; polling fallback',
        poll_ms: o.pollMs,
        batch: o.batch,
        concurrency: o.concurrency,
        pool_max: o.concurrency + 2,
        enqueue: 'asyncTask.enqueue(client, …) on the caller client (one INSERT)',
        bulkEnqueue: 'asyncTask.enqueueMany(client, …): one INSERT … SELECT FROM unnest',
        completion:
          mode === 'leased'
            ? 'row moved from the hot table to the history as succeeded (batched, one statement, guarded by the claim)'
            : 'row moved to the history as succeeded in the transaction of its group (savepoint per attempt)',
      };
    },
    async setup(url, o) {
      options = o;
      pool = new pg.Pool({ connectionString: url, max: o.concurrency + 2 });
      pool.on('error', () => {});
      const db = postgres(pool);
      // Schema-qualified (`schema.table`, both plain identifiers): whatever the driver's default schema is.
      attemptsView = db.tableName;
      asyncTask = createAsyncTask({ db, targets });
      await asyncTask.migrate();
    },
    async enqueue(client, n, payloads) {
      for (let k = 0; k < n; k++) await asyncTask.enqueue(client, 'Bench', 'run', payloads[k]);
    },
    async bulkEnqueue(client, n, payloads) {
      await asyncTask.enqueueMany(client, 'Bench', 'run', payloads.slice(0, n));
    },
    async startWorker(concurrency, handler) {
      onJob = handler;
      worker = asyncTask.worker({
        mode,
        concurrency,
        batchSize: options.batch,
        pollIntervalMs: options.pollMs,
        retention: false,
      });
      await worker.start();
    },
    async countPending(client) {
      const { rows } = await client.query(`SELECT count(*)::int AS n FROM ${attemptsView} WHERE status = 'pending'`);
      return rows[0].n;
    },
    async stop() {
      await worker?.stop({ timeoutMs: 5000 });
      worker = null;
      await pool?.end();
    },
  };
}
